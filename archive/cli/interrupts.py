"""Ctrl-C in long commands: the parent process decides what an interrupt means.

A terminal sends SIGINT to the whole process group. The extraction workers ignore it (see
ingest/workers.py); processes that libraries fork for themselves (Whoosh's index writers)
would each print a KeyboardInterrupt traceback, so in them SIGINT gets the system's default
action back: they end silently, and the parent reports the interrupt once.
"""
from __future__ import annotations

import os
import signal

_installed = False


def _child_default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def forked_children_end_quietly() -> None:
    """From now on, a child forked from this process ends on Ctrl-C without a traceback."""
    global _installed
    if not _installed:
        os.register_at_fork(after_in_child=_child_default_sigint)
        _installed = True
