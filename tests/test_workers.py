"""The worker pool (ingest/workers.py) against pebble's own shutdown, with real processes."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HELPERS = '''
import os, signal, time

def _slowly():
    time.sleep(1)  # unpickled before the new worker opens the pool's channel
    return SlowToStart()

class SlowToStart:
    """An initializer argument that takes a second to unpickle in a new worker, before the
    worker opens the pool's channel (its named semaphores)."""
    def __reduce__(self):
        return (_slowly, ())

def _slow_exit(signum, frame):
    time.sleep(2)
    os._exit(0)

def initializer(_):
    signal.signal(signal.SIGTERM, _slow_exit)  # a started worker takes 2 s to stop

def pid():
    return os.getpid()
'''

DRIVER = '''
import multiprocessing, sys, time
from helpers import SlowToStart, initializer, pid
from ingest.workers import _process_pool_class

# Two workers, each replaced after one task. One does the task and is replaced; the pool then
# stops, the other (idle, started) taking 2 s to stop, while its replacement is still starting.
pool = _process_pool_class()(max_workers=2, max_tasks=1, initializer=initializer,
                             initargs=(SlowToStart(),),
                             context=multiprocessing.get_context("forkserver"))
first = pool.schedule(pid).result()
workers = pool._pool_manager.worker_manager.workers
deadline = time.monotonic() + 60
while first in workers or len(workers) < 2:
    assert time.monotonic() < deadline, "no replacement worker was started"
    time.sleep(0.01)
pool.close()
pool.join()
print("closed")
'''


def test_stopping_the_pool_while_a_worker_starts_prints_no_traceback(tmp_path: Path) -> None:
    """#13.8: pebble 5.2.3 closed its channels, unlinking their named semaphores, before it
    stopped its workers; a worker started in place of one past max_tasks then failed to open
    them and printed a FileNotFoundError traceback at the end of a parallel ingest."""
    (tmp_path / "helpers.py").write_text(HELPERS)
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(root)])}
    done = subprocess.run([sys.executable, "-c", DRIVER], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "closed"
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
