"""Walking source folders: one stat per file, never leaving the root, never stopping on errors."""
from __future__ import annotations

import itertools
import operator
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from archive.paths import catalog_path


JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini", "ehthumbs.db", ".localized",
              "icon\r", ".spotlight-v100", ".trashes", ".fseventsd"}
# Only names starting with "." or "~", or as long as a junk name, can be junk or hidden: the
# walk's common case (a scan, a recording) then costs two cheap tests per file on a re-run.
_JUNK_LENGTHS = frozenset(len(n) for n in JUNK_NAMES if n[0] not in ".~")


class WalkedFile(NamedTuple):
    # A tuple, not a frozen dataclass: one is made per file on every re-run, the hot path.
    name: str
    rel: str  # root-relative with '/' separators (may hold surrogate escapes)
    abs: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Skipped:
    rel: str
    reason: str


@dataclass(frozen=True)
class WalkedFolder:
    rel: str  # "" for the root itself
    files: list[WalkedFile]
    skipped: list[Skipped]


def skipped_lines(folder: WalkedFolder) -> list[dict[str, str]]:
    """A run's report lines for what the walk passed over in a folder: its catalog path and why.

        skipped_lines(WalkedFolder("a", [], [Skipped("a/.DS_Store", "system junk")]))
            -> [{"path": "a/.DS_Store", "reason": "system junk"}]
    """
    return [{"path": catalog_path(k.rel)[0], "reason": k.reason} for k in folder.skipped]


def paths_are_text(files: list[WalkedFile]) -> bool:
    """True when every file's walked path is already its catalog path (valid UTF-8 text; see
    archive.paths.catalog_path), tested in C for the whole folder at once.

        paths_are_text([WalkedFile("a.jpg", "信件/a.jpg", ...)])     -> True
        paths_are_text([WalkedFile("\\udcff.jpg", "\\udcff.jpg", ...)]) -> False
    """
    joined = "".join(map(_rel_of, files))
    if joined.isascii():
        return True
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def junk_reason(name: str, is_dir: bool) -> str | None:
    """Why a name is passed over, or None.

    junk_reason(".DS_Store", False) -> "system junk";  junk_reason("._x.jpg", False) -> same
    junk_reason(".git", True) -> "hidden folder";  junk_reason("信件", True) -> None
    """
    if name[:1] not in ".~" and len(name) not in _JUNK_LENGTHS:
        return None
    if name.lower() in JUNK_NAMES or name.startswith("._") or name.startswith("~$") \
            or name.startswith(".~lock."):
        return "system junk"
    if name.startswith("."):
        return "hidden folder" if is_dir else "hidden file"
    return None


# Called for each .csv file as (absolute path, size, lies at the root): a reason to skip it
# (a manifest), or None. CSV files are few, so the test costs the walk nothing.
CsvScreen = Callable[[str, int, bool], "str | None"]


def walk(root: str, exclude: Mapping[str, str] | None = None,
         screen_csv: CsvScreen | None = None) -> Iterator[WalkedFolder]:
    """Yield each folder under `root` (depth first, names sorted) with its files and what was
    skipped. Symbolic links are never followed: a link out of the root would catalogue
    someone else's files, and one inside it would catalogue the same file twice.
    `exclude` maps absolute paths never catalogued to the reason given for skipping them."""
    # This loop is most of a no-op re-run (docs/PERFORMANCE.md, Ingest): the usual file (a
    # regular file with an ordinary name) takes one lstat and a few inline tests, no calls.
    exclude = exclude or {}
    stack: list[tuple[str, str]] = [("", root)]  # (root-relative, absolute) folders to list
    while stack:
        rel_dir, abs_dir = stack.pop()
        prefix = rel_dir + "/" if rel_dir else ""
        files: list[WalkedFile] = []
        skipped: list[Skipped] = []
        subdirs: list[tuple[str, str]] = []
        try:
            with os.scandir(abs_dir) as it:
                entries = sorted(it, key=_by_name)
        except OSError as exc:
            yield WalkedFolder(rel_dir, [], [Skipped(rel_dir or ".",
                                                     f"unreadable folder: {exc.strerror}")])
            continue
        for entry in entries:
            name = entry.name
            rel = prefix + name
            try:
                # A folder is known from the directory listing itself (no system call on
                # the usual filesystems); only files and links need their own lstat.
                is_dir = entry.is_dir(follow_symlinks=False)
                st = None if is_dir else entry.stat(follow_symlinks=False)
            except OSError as exc:
                skipped.append(Skipped(rel, f"cannot stat: {exc.strerror}"))
                continue
            if (name[0] in ".~" or len(name) in _JUNK_LENGTHS) and \
                    (reason := junk_reason(name, is_dir)):
                skipped.append(Skipped(rel, reason))
            elif st is None:
                subdirs.append((rel, entry.path))
            elif st.st_mode & _S_IFMT != _S_IFREG:
                skipped.append(Skipped(rel, _link_reason(root, entry.path)
                                        if stat.S_ISLNK(st.st_mode) else
                                        "not a regular file (device, pipe or socket)"))
            elif exclude and entry.path in exclude:
                skipped.append(Skipped(rel, exclude[entry.path]))
            elif screen_csv is not None and name[-4:] in _CSV_ENDINGS and \
                    (why := screen_csv(entry.path, st.st_size, not rel_dir)):
                skipped.append(Skipped(rel, why))
            else:
                files.append(WalkedFile(name, rel, entry.path, st.st_size, st.st_mtime_ns))
        yield WalkedFolder(rel_dir, files, skipped)
        stack.extend(reversed(subdirs))


_rel_of = operator.itemgetter(1)  # WalkedFile.rel, in C
_by_name = operator.attrgetter("name")  # in C: a lambda per entry cost the sort a call each
_S_IFMT, _S_IFREG = 0o170000, stat.S_IFREG  # stat.S_ISREG, inline
# ".csv" in any case, as a set: one look-up per file instead of a lower() and a compare.
_CSV_ENDINGS = frozenset("".join(c) for c in itertools.product(*(({ch, ch.upper()})
                                                                  for ch in ".csv")))


def _link_reason(root: str, path: str) -> str:
    target = os.path.realpath(path)
    real_root = os.path.realpath(root)
    if target != real_root and not target.startswith(real_root + os.sep):
        return "symbolic link out of the root (not followed)"
    return "symbolic link inside the root (its target is catalogued at its own path)"
