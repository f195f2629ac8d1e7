"""Ctrl-C in long commands: the parent process decides what an interrupt means.

A terminal sends SIGINT to the whole process group. The extraction workers ignore it (see
ingest/workers.py); processes that libraries fork for themselves (Whoosh's index writers)
would each print a KeyboardInterrupt traceback, so in them SIGINT gets the system's default
action back: they end silently, and the parent reports the interrupt once.

A Ctrl-C that lands while this process is forking would be raised inside Python's after-fork
hooks, where it is printed as "Exception ignored" and lost: the command would go on to the end.
So while forking the parent only remembers the SIGINT, and long loops call
`raise_if_interrupted()`, which raises it at a point where it can be handled.

Starting a child is more than the fork: until `Process.start()` has returned, the parent does
not know the child's pid, so a KeyboardInterrupt raised there leaves a child nobody can stop
(it holds the terminal's pipes open: the command seems to hang after its exit). Code that
starts children wraps the start in `deferred()`, which holds a Ctrl-C until the child is known.
"""
from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_installed = False
_pending = False
_deferring = 0  # how many forks or deferred() blocks this process is inside


def _remember_and_raise(signum: int, frame: object) -> None:
    global _pending
    if _deferring:
        _pending = True  # raised later by raise_if_interrupted, where it can be handled
        return
    raise KeyboardInterrupt


def _before_fork() -> None:
    global _deferring
    _deferring += 1


def _after_fork_in_parent() -> None:
    global _deferring
    _deferring -= 1


@contextmanager
def deferred() -> Iterator[None]:
    """Hold a Ctrl-C that lands inside the block and raise it when the block ends.

    Only where `forked_children_end_quietly()` installed the handler; elsewhere a Ctrl-C
    is raised where it lands, as usual."""
    global _deferring
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
    if not _deferring:
        raise_if_interrupted()


def raise_if_interrupted() -> None:
    """Raise a Ctrl-C this process received but could not deliver (see above), once."""
    global _pending
    if _pending:
        _pending = False
        raise KeyboardInterrupt


def _child_default_sigint() -> None:
    global _deferring, _pending
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    interrupted, _deferring, _pending = _pending, 0, False
    if interrupted:  # the Ctrl-C reached it while it was being forked: end as it would have
        os.kill(os.getpid(), signal.SIGINT)


def sigint_raises() -> bool:
    """Whether a Ctrl-C here still raises KeyboardInterrupt: Python's own handler, or this
    module's, which only holds it back while forking. Code that wants Ctrl-C at safe points
    only (ingest/workers.py) may take over such a handler, never one that ignores SIGINT or
    belongs to someone else."""
    return signal.getsignal(signal.SIGINT) in (signal.default_int_handler, _remember_and_raise)


def forked_children_end_quietly() -> None:
    """From now on, a child forked from this process ends on Ctrl-C without a traceback."""
    global _installed, _pending
    if not _installed:
        # Before-hooks run in reverse order of registration and after-hooks in order, so these
        # are the first and the last: logging's own fork hooks run inside the window.
        os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                            after_in_child=_child_default_sigint)
        _installed = True
    # Only where SIGINT still means KeyboardInterrupt: never over a handler someone else set,
    # and signal handlers can only be set from the main thread.
    if (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
        _pending = False
        signal.signal(signal.SIGINT, _remember_and_raise)
