"""Leases kept alive by their holder. A folder lock (archive/lock.py) and a run's work claims
(archive/claims.py) carry a time they run out; the holder moves it on while it works, so a
machine that dies gives its folders and its work back when the lease ends."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


@contextmanager
def renewed(lease: float, renew: Callable[[], None], what: str) -> Iterator[None]:
    """Call `renew` every third of `lease` seconds from a thread while the block runs. A
    renewal that fails (the server out of reach a moment) is logged and tried again at the
    next beat: only a holder that stopped loses what it holds."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(lease / 3):
            try:
                renew()
            except Exception as exc:  # noqa: BLE001 - a missed beat is retried
                log.warning("could not renew %s: %s", what, exc)
    thread = threading.Thread(target=beat, name=f"{what} lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
