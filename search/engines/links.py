"""Private folders of links through which an index folder this user may not write is read
(search/engines/tantivy.py, Opened), and the cleaning up after processes that died holding one.

Each folder lives in one folder per user in the temporary directory and is named after the
process that made it:

    private_folder()  ->  /tmp/archive-index-1000/4711-k2j4x9/     (pid 4711)

A process removes its own folder when it closes the index or exits; one killed (`kill -9`, a
crash, the power) cannot, so every new private folder first removes the folders of processes
that no longer run. A leaked folder holds only symbolic links: it lasts until the next
read-only open by the same user.
"""
from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


def _home() -> Path | None:
    """This user's folder of private folders, made private (0700) and checked to be this
    user's own folder (not a link, not someone else's: the temporary directory is shared);
    None when it cannot be used."""
    home = Path(tempfile.gettempdir()) / f"archive-index-{os.getuid()}"
    try:
        home.mkdir(mode=0o700, exist_ok=True)
        st = home.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        log.warning("%s is not a folder of this user's: private index folders go directly "
                    "in the temporary directory", home)
        return None
    return home


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process under that pid: not ours to judge
    return True


def owner_pid(folder: Path) -> int | None:
    """The pid a private folder is named after: owner_pid(Path("4711-k2j4x9")) -> 4711."""
    head = folder.name.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def remove_stale(home: Path) -> list[Path]:
    """Remove the private folders of processes that no longer run; returns them."""
    removed = []
    for folder in home.iterdir():
        pid = owner_pid(folder)
        if pid is None or pid == os.getpid() or _running(pid):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def private_folder() -> Path:
    """A new private folder for this process, after removing those of dead processes."""
    home = _home()
    if home is None:
        return Path(tempfile.mkdtemp(prefix="archive-index-"))
    remove_stale(home)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=home))
