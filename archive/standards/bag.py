"""BagIt 1.0 packages for transfer and preservation, built and checked with bagit-python (the
Library of Congress's library). Layout, as Archivematica takes bags in:

    DIR/bagit.txt, bag-info.txt, manifest-sha256.txt, manifest-sha512.txt, tagmanifest-*.txt
    DIR/data/objects/<accession>/<catalogued path>     the originals, byte for byte
    DIR/data/metadata/<accession>/dc.xml               oai_dc
    DIR/data/metadata/<accession>/record.json          the item as `archive show --json` has it
    DIR/data/metadata/<accession>/premis.xml           PREMIS 3 objects, events and agents

Originals are only read: each is streamed into the bag in 1 MiB blocks while its SHA-256 is
taken and compared with the catalog's, so a bag holds the files as catalogued or is not made.
Memory stays flat whatever the files' sizes; what grows with the number of files is
bagit-python's own list of manifest lines.

bagit.make_bag moves the folder's contents into data/ and hashes them itself, and it changes
the process's working directory while it runs (restoring it afterwards): it is given an
absolute path, refused a folder the working directory is inside, and must not be called from
a thread of a multi-threaded server.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from archive.errors import BagProblem, NotABag, UsageError
from archive.paths import filesystem_path
from archive.records import item_record
from archive.standards.dublin_core import dc_record
from archive.standards.premis import premis_record
from archive.standards.records import AGENCY, TOOL, FileRecord, ItemRecord

COPY_BLOCK = 1 << 20
CHECKSUMS = ("sha256", "sha512")


@dataclass(frozen=True)
class BagSummary:
    path: str
    items: int
    files: int
    bytes: int


def original_path(f: FileRecord) -> str | None:
    """Where the original lives, or None if it resolves outside its catalogued root (a link
    planted after ingest must not pull another file into a bag)."""
    if f.root is None:
        return None
    path = os.path.realpath(filesystem_path(f.root, f.path, f.path_raw))
    root = os.path.realpath(f.root).rstrip(os.sep) + os.sep
    return path if path.startswith(root) else None


def bag_member(accession: str, path: str) -> Path:
    """objects/<accession>/<path> for a catalogued path; refuses '..' and absolute paths.

    bag_member("QXS-L-00001", "钱学森/信件/a.jpg") -> objects/QXS-L-00001/钱学森/信件/a.jpg
    """
    parts = [p for p in path.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts) or path.startswith("/"):
        raise UsageError(f"{accession}: catalogued path {path!r} cannot be placed in a bag")
    return Path("objects", accession, *parts)


def copy_original(source: str, dest: Path) -> str:
    """Stream one original into the bag (never over an existing file); its SHA-256."""
    digest = hashlib.sha256()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(source, "rb") as fin, open(dest, "xb") as fout:
        while block := fin.read(COPY_BLOCK):
            digest.update(block)
            fout.write(block)
    st = os.stat(source)
    os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns))  # the copy keeps the original's date
    return digest.hexdigest()


def _prepare(target: Path) -> bool:
    """Make the (new or empty) bag folder; True if it was created here."""
    if target.exists():
        if not target.is_dir() or any(target.iterdir()):
            raise UsageError(f"{target} already exists and is not an empty folder; give a new "
                             "folder for the bag")
        return False
    try:
        target.mkdir(parents=True)
    except OSError as exc:
        raise UsageError(f"cannot create {target}: {exc.strerror or exc}") from None
    return True


def _clear(target: Path, created: bool) -> None:
    if created:
        shutil.rmtree(target, ignore_errors=True)
    elif target.is_dir():
        for child in target.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() \
                else child.unlink()


def _write_item(s: Session, target: Path, item: ItemRecord,
                problems: list[str]) -> tuple[int, int, dict[str, str]]:
    """Copy an item's originals and write its metadata; (files, bytes, bag path -> sha256)."""
    files = size = 0
    expected: dict[str, str] = {}
    for f in item.files:
        member = bag_member(item.accession, f.path)
        source = original_path(f)
        if source is None or not os.path.isfile(source):
            problems.append(f"{item.accession} {f.path}: the original is missing")
            continue
        try:
            digest = copy_original(source, target / member)
        except OSError as exc:
            problems.append(f"{item.accession} {f.path}: cannot be read: {exc.strerror or exc}")
            continue
        if f.sha256 and digest != f.sha256:
            problems.append(f"{item.accession} {f.path}: changed since it was catalogued "
                            f"(SHA-256 {digest[:12]}…, catalogued {f.sha256[:12]}…)")
            continue
        expected[f"data/{member.as_posix()}"] = digest
        files += 1
        size += f.size
    meta = target / "metadata" / item.accession
    meta.mkdir(parents=True, exist_ok=True)
    from lxml import etree
    (meta / "dc.xml").write_bytes(etree.tostring(dc_record(item), xml_declaration=True,
                                                 encoding="utf-8", pretty_print=True))
    record = item_record(s, item.accession)
    (meta / "record.json").write_text(json.dumps(record, ensure_ascii=False, indent=2,
                                                 default=str) + "\n", encoding="utf-8")
    (meta / "premis.xml").write_bytes(etree.tostring(premis_record(item),
                                                     xml_declaration=True, encoding="utf-8",
                                                     pretty_print=True))
    return files, size, expected


def build_bag(s: Session, items: Iterable[ItemRecord], target: Path,
              description: str) -> BagSummary:
    """Copy the items' originals and metadata into a new bag at `target`, let bagit-python
    write the manifests, check them against the catalog's checksums and validate the bag.
    Items must carry their events (source.* with_events=True). Nothing is left behind if
    any original is missing or changed (BagProblem lists them all)."""
    import bagit
    target = Path(os.path.abspath(target))
    cwd = os.path.abspath(os.getcwd())
    if cwd == str(target) or cwd.startswith(str(target) + os.sep):
        raise UsageError(f"the bag folder {target} holds the working directory; run the "
                         "command from elsewhere")
    created = _prepare(target)
    problems: list[str] = []
    expected: dict[str, str] = {}
    n_items = n_files = n_bytes = 0
    try:
        for item in items:
            files, size, digests = _write_item(s, target, item, problems)
            n_items += 1
            n_files += files
            n_bytes += size
            expected.update(digests)
        if problems:
            raise BagProblem(str(target), problems)
        if not n_items:
            raise UsageError("nothing to put in the bag: no item was selected")
        try:
            bag = bagit.make_bag(str(target), bag_info={
                "Source-Organization": AGENCY,
                "External-Description": description,
                "Bag-Software-Agent": f"{TOOL} with bagit.py {bagit.VERSION}",
            }, checksums=list(CHECKSUMS), processes=1)
            mismatched = [p for p, digest in expected.items()
                          if bag.entries.get(p, {}).get("sha256") != digest]
            if mismatched:
                raise BagProblem(str(target), [f"{p}: the copy differs from the original"
                                               for p in mismatched])
            bag.validate(processes=1)
        except bagit.BagValidationError as exc:
            raise BagProblem(str(target), [str(d) for d in exc.details] or [exc.message]) \
                from None
        except (bagit.BagError, RuntimeError, OSError) as exc:
            raise UsageError(f"cannot make the bag {target}: {exc}") from None
    except BaseException:
        _clear(target, created)  # a half-made bag must not pass for a bag
        raise
    return BagSummary(str(target), n_items, n_files, n_bytes)


def verify_bag(path: Path) -> list[str]:
    """Every problem bagit-python finds in a bag ([] = valid); NotABag if it is not one."""
    import bagit
    if not (path / "bagit.txt").is_file():
        raise NotABag(f"{path} is not a bag: it has no bagit.txt")
    try:
        bag = bagit.Bag(str(path))
    except bagit.BagError as exc:
        raise NotABag(f"{path} is not a readable bag: {exc}") from None
    problems, details = _validate(bag)
    if problems and not details and "Payload-Oxum" in bag.info:
        # The Payload-Oxum only says that the payload's count or size differs: check again
        # without it, so every missing, unexpected or altered file is named.
        del bag.info["Payload-Oxum"]
        more, details = _validate(bag)
        problems += more
    if any(isinstance(d, (bagit.FileMissing, bagit.UnexpectedFile)) for d in details):
        # bagit stops at an incomplete bag before comparing checksums: compare those of the
        # files that are present, so an altered file is not hidden behind a stray one.
        problems += altered_files(bag)
    return problems


def _validate(bag: Any) -> tuple[list[str], list[Any]]:
    """bagit's verdict: (messages, bagit's detail objects); ([], []) for a valid bag."""
    import bagit
    try:
        bag.validate(processes=1)
    except bagit.BagValidationError as exc:
        return [str(d) for d in exc.details] or [exc.message], list(exc.details)
    except bagit.BagError as exc:
        return [str(exc)], []
    return [], []


def altered_files(bag: Any) -> list[str]:
    """'path sha256 differs' for each file listed in the bag's manifests that is present
    but whose bytes no longer match (read in blocks: memory flat)."""
    out = []
    for rel, hashes in sorted(bag.entries.items()):
        path = os.path.join(bag.path, rel)
        if not os.path.isfile(path):
            continue
        hashers = {alg: hashlib.new(alg) for alg in hashes if alg in hashlib.algorithms_available}
        with open(path, "rb") as fh:
            while block := fh.read(COPY_BLOCK):
                for h in hashers.values():
                    h.update(block)
        for alg, h in hashers.items():
            if h.hexdigest() != hashes[alg].lower():
                out.append(f"{rel} {alg} differs from the manifest: expected "
                           f"{hashes[alg].lower()}, found {h.hexdigest()}")
    return out
