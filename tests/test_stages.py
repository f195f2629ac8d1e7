"""The ingest stages: deciding items without a database, the sequential mode, the dry run's
predictions, and the progress counts."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.dates import parse_date
from archive.models import File, Item
from benchmarks.generators.samples import make_jpeg, make_photo, make_wav
from ingest.attribution import NewScientist, attribute
from ingest.classify import Grouping
from ingest.describe import DescribeOptions, describe_item, item_date, manifest_columns
from ingest.extract import Extraction
from ingest.manifest import ManifestRow
from ingest.tasks import FileJob
from ingest.batch import copy_fate
from tests.catalogs import nothing_written

KNOWN = {"钱学森": 7, "Qian Xuesen": 7, "Hua Luogeng": 9}


def match(name: str) -> int | None:
    return KNOWN.get(name)


def job(path: str, role: str = "master", base: str | None = None,
        master_ext: str = ".jpg", row: ManifestRow | None = None) -> FileJob:
    parts = path.split("/")
    stem = parts[-1].rsplit(".", 1)[0]
    return FileJob(root_id=1, root="/data/coll", path=path, path_raw=None,
                   folder="/".join(parts[:-1]), abs="/data/coll/" + path, size=10,
                   mtime_ns=1, grouping=Grouping(base or stem, role, master_ext),
                   chain=("coll", *parts), manifest=row)


def extraction(kind: str, date_taken: str | None = None) -> Extraction:
    return Extraction(sha256="0" * 64, size=10, kind=kind, date_taken=date_taken)


OPTIONS = DescribeOptions(match=match)


def test_letter_in_a_known_scientists_folder():
    facts = describe_item(job("钱学森/信件/letter_1950-03_p1.jpg", "page", "letter_1950-03"),
                          extraction("image"), None, OPTIONS)
    assert (facts.key, facts.type, facts.type_source, facts.scientist, facts.title,
            facts.date.text, facts.access) == (
        "钱学森/信件/letter_1950-03", "letter", "content", 7, "letter 1950-03", "1950-03", "open")


def test_photograph_of_an_unknown_folder_gets_a_new_scientist_and_its_exif_date():
    facts = describe_item(job("zhao_jiuzhang/photos/lab.jpg"),
                          extraction("image", "1956:05:01 10:00:00"), None, OPTIONS)
    assert facts.type == "photograph"
    assert facts.scientist == NewScientist("Zhao Jiuzhang", "zhao_jiuzhang")
    assert facts.date == parse_date("1956-05-01")


def test_transcript_guesses_from_its_main_file():
    facts = describe_item(job("钱学森/录音/talk.txt", "transcript", "talk", ".mp3"),
                          extraction("transcript"), None, OPTIONS)
    assert (facts.type, facts.type_source) == ("audio", "sidecar")


def test_option_type_and_scientist():
    options = DescribeOptions(type="letter", scientist=9, default_access="restricted",
                              match=match)
    facts = describe_item(job("钱学森/talk.wav"), extraction("audio"), None, options)
    assert (facts.type, facts.type_source, facts.scientist, facts.access) == \
        ("letter", "option", 9, "restricted")


def test_the_manifest_row_wins():
    row = ManifestRow(2, "钱学森/手稿/x.pdf", "/data/coll", scientist="Hua Luogeng",
                      type="manuscript", title="《工程控制论》手稿", date=parse_date("1954"),
                      access="closed", location="Box 7", extra={"box": "7"})
    facts = describe_item(job("钱学森/文件/x.pdf", row=row), extraction("pdf"), row,
                          DescribeOptions(type="letter", scientist=7, match=match))
    assert (facts.type, facts.type_source, facts.scientist, facts.title, facts.date.text,
            facts.access, facts.location, facts.extra) == (
        "manuscript", "manifest", 9, "《工程控制论》手稿", "1954", "closed", "Box 7",
        {"box": "7"})


def test_files_at_the_root_and_in_type_folders_are_unattributed():
    assert describe_item(job("scan.jpg"), extraction("image"), None, OPTIONS).scientist is None
    assert describe_item(job("信件/a.jpg"), extraction("image"), None, OPTIONS).scientist is None


@pytest.mark.parametrize("chain, manifest, forced, expected", [
    (("coll", "钱学森", "信件"), None, None, 7),
    (("Qian Xuesen",), None, None, 7),  # the root itself names the scientist
    (("coll", "zhao_jiuzhang"), None, None, NewScientist("Zhao Jiuzhang", "zhao_jiuzhang")),
    (("coll", "钱学森"), None, 3, 3),
    (("coll", "钱学森"), "Hua Luogeng", 3, 9),
    (("coll", "钱学森"), "nobody known", None, 7),
])
def test_attribute(chain, manifest, forced, expected):
    assert attribute(chain, manifest, forced, match) == expected


def test_item_date():
    assert item_date("letter_1950-03", "letter", None).text == "1950-03"
    assert item_date("lab", "letter", "1956:05:01 10:00:00") is None
    assert item_date("lab", "photograph", "0000:00:00 00:00:00") is None


def test_manifest_columns_are_the_filled_cells_as_item_columns():
    row = ManifestRow(3, "a.jpg", "/c", title="Same", location="Box 8", type="letter",
                      date=parse_date("1950"), scientist="Hua Luogeng", extra={"box": "8"})
    assert manifest_columns(row, match, {"shelf": "2"}) == {
        "title": "Same", "location": "Box 8", "type": "letter", "date": "1950",
        "date_start": dt.date(1950, 1, 1), "date_end": dt.date(1950, 12, 31),
        "date_precision": "year", "scientist_id": 9, "extra": {"shelf": "2", "box": "8"}}


def test_copy_fate():
    gone = {"b"}
    assert copy_fate([], lambda c: c in gone) == ("new", None)
    assert copy_fate(["a", "b"], lambda c: c in gone) == ("move", "b")
    assert copy_fate(["a", "c"], lambda c: c in gone) == ("duplicate", "a")


# -- the chain, end to end -------------------------------------------------------------------

def small_collection(folder: Path) -> Path:
    make_photo(folder / "钱学森" / "照片" / "one.jpg")
    shutil.copy(folder / "钱学森" / "照片" / "one.jpg", folder / "钱学森" / "two.jpg")
    make_wav(folder / "钱学森" / "录音" / "talk.wav", 0.5)
    (folder / "钱学森" / "录音" / "talk.txt").write_text("访谈", encoding="utf-8")
    (folder / "empty.wav").write_bytes(b"")
    make_jpeg(folder / "信件" / "letter_1950_p1.jpg")
    make_jpeg(folder / "信件" / "letter_1950_p2.jpg", (40, 50))
    return folder


def test_sequential_mode_catalogues_the_same_as_workers(cli_json, tmp_path, catalog):
    folder = small_collection(tmp_path / "coll")
    code, seq = cli_json("ingest", str(folder), "--jobs", "0")
    with catalog.session() as s:
        rows = sorted(s.execute(select(File.path, File.sha256, File.problem, Item.accession,
                                       Item.type).join(Item)).all())
    code2, again = cli_json("ingest", str(folder), "--jobs", "0")
    assert (code, seq["new"], len(seq["duplicates"]), len(seq["problems"])) == (1, 7, 1, 1)
    assert (code2, again["unchanged"], again["new"]) == (0, 7, 0)

    other = tmp_path / "other.db"
    from tests.conftest import run
    result = run(other, "ingest", str(folder), "--jobs", "2", "--json")
    from tests.catalogs import catalog_rows
    pooled = sorted(catalog_rows(other, "select f.path, f.sha256, f.problem, i.accession, "
                                        "i.type from files f join items i on i.id = f.item_id"))
    assert result.exit_code == 1
    assert [tuple(r) for r in rows] == pooled


def test_dry_run_predicts_duplicates_and_problems_and_writes_nothing(cli_json, tmp_path,
                                                                     catalog_path):
    folder = small_collection(tmp_path / "coll")
    code, dry = cli_json("ingest", str(folder), "--dry-run")
    assert nothing_written(catalog_path)
    code, real = cli_json("ingest", str(folder))
    for key in ("seen", "new", "changed", "unchanged", "moved", "duplicates", "problems",
                "skipped"):
        assert dry[key] == real[key], key
    assert dry["duplicates"] == [["钱学森/照片/one.jpg", "钱学森/two.jpg"]] or \
        dry["duplicates"] == [["钱学森/two.jpg", "钱学森/照片/one.jpg"]]
    assert [p["path"] for p in dry["problems"]] == ["empty.wav"]


def test_dry_run_against_a_catalog_predicts_moves_and_changes(cli_json, tmp_path, catalog):
    folder = small_collection(tmp_path / "coll")
    cli_json("ingest", str(folder))
    (folder / "钱学森" / "录音" / "talk.wav").rename(folder / "talk.wav")
    (folder / "钱学森" / "录音" / "talk.txt").write_text("访谈记录", encoding="utf-8")
    with catalog.session() as s:
        before = s.scalar(select(func.count(File.id)))
    _, dry = cli_json("ingest", str(folder), "--dry-run")
    with catalog.session() as s:
        assert s.scalar(select(func.count(File.id))) == before
    _, real = cli_json("ingest", str(folder))
    assert (dry["moved"], dry["changed"], dry["new"]) == (real["moved"], real["changed"],
                                                         real["new"]) == (1, 1, 0)


def test_dry_run_lists_the_files_the_run_would_mark_missing(cli_json, tmp_path, catalog):
    """#11 leftover: the dry run's `missing` was always empty."""
    folder = small_collection(tmp_path / "coll")
    cli_json("ingest", str(folder))
    (folder / "信件" / "letter_1950_p2.jpg").unlink()  # a file gone from a folder still there
    shutil.rmtree(folder / "钱学森" / "录音")  # a folder gone whole
    (folder / "信件" / "letter_1950_p1.jpg").rename(folder / "moved.jpg")  # moved, not missing
    _, dry = cli_json("ingest", str(folder), "--dry-run")
    with catalog.session() as s:
        assert s.scalar(select(func.count(File.id)).where(File.status == "missing")) == 0
    _, real = cli_json("ingest", str(folder))
    assert dry["missing"] == real["missing"] == [
        "信件/letter_1950_p2.jpg", "钱学森/录音/talk.txt", "钱学森/录音/talk.wav"]
    assert dry["moved"] == real["moved"] == 1


def test_progress_counts_files_of_the_walks_total(tmp_path, settings):
    """The bar shows report.done of report.seen: both count files, so done never passes
    seen, whatever mix of new, changed, duplicate, problem and unchanged files (#12.6)."""
    from archive.catalog import Catalog
    from ingest.pipeline import IngestOptions, ingest
    folder = small_collection(tmp_path / "coll")
    (folder / "manifest.csv").write_text("path,title\n钱学森/two.jpg,第二张\n", encoding="utf-8")

    class Recorder:
        def __init__(self) -> None:
            self.seen: list[tuple[int, int]] = []

        def update(self, report, current: str) -> None:
            self.seen.append((report.done, report.seen))

    cat = Catalog.open(settings, create=True)
    try:
        for options in (IngestOptions(manifest=str(folder / "manifest.csv")),
                        IngestOptions(in_process=True), IngestOptions(dry_run=True)):
            bar = Recorder()
            report = ingest(cat, [str(folder)], options, bar)
            assert bar.seen and all(done <= total for done, total in bar.seen)
            # 7 files: manifest.csv is never catalogued, once used as a manifest (#12.1)
            assert (report.done, report.seen) == (7, 7)
    finally:
        cat.close()


def test_a_rerun_looks_folders_up_in_groups_and_misses_nothing_at_their_edges(cli_json,
                                                                              tmp_path):
    """#13.8: a re-run reads the catalogued files of up to FOLDERS_PER_QUERY folders in one
    query (one per folder was most of a no-op's time on PostgreSQL). Changes, a file gone and
    a new file on either side of a group's edge are all still noticed."""
    import os
    from ingest.known import FOLDERS_PER_QUERY
    folder = tmp_path / "coll"
    n = FOLDERS_PER_QUERY + 6
    for i in range(n):
        box = folder / "钱学森" / f"box{i:03d}"
        box.mkdir(parents=True)
        (box / "note.txt").write_text(f"笔记 {i}", encoding="utf-8")
    _, first = cli_json("ingest", str(folder), "--jobs", "0")
    assert first["new"] == n
    # The walk gives the root, then 钱学森, then the boxes: box k is folder k + 2.
    last_of_first, first_of_second = FOLDERS_PER_QUERY - 3, FOLDERS_PER_QUERY - 2
    changed = folder / "钱学森" / f"box{last_of_first:03d}" / "note.txt"
    changed.write_text("笔记，改过", encoding="utf-8")
    os.utime(changed, ns=(1, 1))
    (folder / "钱学森" / f"box{first_of_second:03d}" / "note.txt").unlink()
    (folder / "钱学森" / f"box{first_of_second:03d}" / "new.txt").write_text("新", "utf-8")
    _, again = cli_json("ingest", str(folder), "--jobs", "0")
    assert (again["changed"], again["new"], again["unchanged"]) == (1, 1, n - 2)
    assert again["missing"] == [f"钱学森/box{first_of_second:03d}/note.txt"]


def test_the_walk_sorts_and_screens_each_kind_of_entry(tmp_path):
    """The walk's inline tests (#13.8: no call per ordinary file) keep each rule: junk and
    hidden names, links, other folders, a CSV in any case handed to the screen, exclusions."""
    import os

    from ingest.walk import walk
    root = tmp_path / "root"
    (root / "信件").mkdir(parents=True)
    for name in ("b.jpg", "a.jpg", ".DS_Store", "Thumbs.db", ".hidden", "~$draft.docx",
                 "LIST.CSV", "gone.txt", "信件/x.jpg"):
        (root / name).write_bytes(b"x")
    (root / ".git").mkdir()
    (root / "link.jpg").symlink_to(root / "a.jpg")
    os.mkfifo(root / "pipe")
    screened = []

    def screen(path: str, size: int, at_root: bool) -> str | None:
        screened.append((os.path.basename(path), size, at_root))
        return "a manifest"
    folders = list(walk(str(root), {str(root / "gone.txt"): "forgotten"}, screen))
    assert [f.rel for f in folders] == ["", "信件"]
    top = folders[0]
    assert [(f.name, f.rel, f.abs, f.size) for f in top.files] == [
        ("a.jpg", "a.jpg", str(root / "a.jpg"), 1), ("b.jpg", "b.jpg", str(root / "b.jpg"), 1)]
    assert {s.rel: s.reason for s in top.skipped} == {
        ".DS_Store": "system junk", ".git": "hidden folder", ".hidden": "hidden file",
        "LIST.CSV": "a manifest", "Thumbs.db": "system junk", "gone.txt": "forgotten",
        "link.jpg": "symbolic link inside the root (its target is catalogued at its own path)",
        "pipe": "not a regular file (device, pipe or socket)", "~$draft.docx": "system junk"}
    assert screened == [("LIST.CSV", 1, True)]
    assert [(f.rel, f.abs) for f in folders[1].files] == [("信件/x.jpg", str(root / "信件/x.jpg"))]


def test_valid_text_tells_whether_walked_paths_are_catalog_paths():
    from ingest.walk import WalkedFile, paths_are_text

    def files(*rels: str) -> list[WalkedFile]:
        return [WalkedFile(r, r, "/" + r, 1, 1) for r in rels]
    assert paths_are_text(files()) and paths_are_text(files("a.jpg", "信件/b.jpg"))
    assert not paths_are_text(files("a.jpg", "bad/\udcff.jpg"))
