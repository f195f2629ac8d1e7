"""`archive ingest` end to end on the generated demo collection and on crafted edge cases."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.access import item_is_public
from archive.catalog import Catalog
from archive.fields import EXPORT_KEYS
from archive.models import Event, File, FileText, IngestProblem, IngestRun, Item, Scientist
from benchmarks.generators.samples import make_jpeg, make_pdf, make_photo, make_wav, make_audio
from tests.conftest import snapshot, write_manifest
from tests.catalogs import nothing_written


def ingest_demo(cli, cli_json, demo: Path, *extra: str):
    cli("scientists", "import", str(demo / "scientists.csv"))
    coll = demo / "collection"
    return cli_json("ingest", str(coll), "--manifest", str(coll / "manifest.csv"), *extra)


def items_by_title(catalog: Catalog) -> dict[str, Item]:
    with catalog.session() as s:
        return {i.title: i for i in s.scalars(select(Item))}


def test_demo_summary(cli, cli_json, demo):
    code, report = ingest_demo(cli, cli_json, demo)
    assert code == 1  # the demo holds one corrupt scan on purpose
    for key in ("seen", "new", "changed", "unchanged", "moved", "duplicates", "skipped",
                "problems"):
        assert key in report
    assert (report["seen"], report["new"], report["changed"], report["unchanged"],
            report["moved"]) == (20, 20, 0, 0, 0)
    assert report["duplicates"] == [["Wang Ganchang/photos/dubna_1959_copy.jpg",
                                     "Wang Ganchang/photos/dubna_1959.jpg"]]
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    assert skipped == {"manifest.csv": "the manifest of this ingest",
                       "zhao_jiuzhang/photos/Thumbs.db": "system junk",
                       "钱学森/.DS_Store": "system junk",
                       "钱学森/照片/._力学所_1956.jpg": "system junk"}
    assert report["problems"] == [{
        "path": "zhao_jiuzhang/photos/damaged_scan_truncated.jpg", "stage": "extract",
        "reason": "truncated: the image data ends before its end-of-image marker"}]


def test_text_summary_and_exit_code(cli, demo):
    cli("scientists", "import", str(demo / "scientists.csv"))
    result = cli("ingest", str(demo / "collection"))
    assert result.exit_code == 1
    assert "damaged_scan_truncated.jpg [extract]: truncated" in result.stdout
    assert "new 20" in result.stdout  # manifest.csv looks like one: skipped all the same
    assert "manifest.csv: likely a manifest" in result.stdout


def test_rerun_changes_nothing(cli, cli_json, demo, catalog):
    ingest_demo(cli, cli_json, demo)
    with catalog.session() as s:
        before = (s.scalar(select(func.count(Item.id))), s.scalar(select(func.count(File.id))),
                  s.scalar(select(func.count(Event.id))))
    code, report = ingest_demo(cli, cli_json, demo)
    assert code == 0
    assert (report["new"], report["changed"], report["unchanged"], report["problems"]) == \
        (0, 0, 20, [])
    with catalog.session() as s:
        after = (s.scalar(select(func.count(Item.id))), s.scalar(select(func.count(File.id))),
                 s.scalar(select(func.count(Event.id))))
    assert after == before


def test_originals_are_never_written(cli, cli_json, demo):
    before = snapshot(demo / "collection")
    ingest_demo(cli, cli_json, demo)
    assert snapshot(demo / "collection") == before


def test_items_types_scientists_and_manifest(cli, cli_json, demo, catalog):
    ingest_demo(cli, cli_json, demo)
    items = items_by_title(catalog)
    with catalog.session() as s:
        letter = s.scalars(select(Item).where(
            Item.title == "钱学森致陈赓信（关于建立力学研究所）")).one()
        roles = sorted((f.path.rsplit("/", 1)[1], f.role) for f in letter.files)
        assert roles == [("致陈赓_1956_02_17.jpg", "master"),
                         ("致陈赓_1956_02_17.txt", "transcript"),
                         ("致陈赓_1956_02_17_p2.jpg", "page")]
        assert (letter.type, letter.scientist.name, letter.date, letter.pages, letter.location,
                letter.rights, letter.extra) == ("letter", "钱学森", "1956-02-17", 2,
                                                 "Box 3, Folder 12", "© 钱学森家属",
                                                 {"language": "zh"})
        assert letter.accession.startswith("QXS-L-")
        transcript = next(f for f in letter.files if f.role == "transcript")
        assert "导弹研究" in s.get(FileText, transcript.id).text
        manuscript = s.scalars(select(Item).where(Item.title == "《工程控制论》手稿")).one()
        assert (manuscript.type, manuscript.access, manuscript.pages) == ("manuscript",
                                                                        "restricted", 2)
        pdf_text = s.get(FileText, manuscript.files[0].id).text
        assert "导弹与火箭" in pdf_text
    types = {t: i.type for t, i in items.items()}
    assert types["笔记 1955"] == "manuscript"
    assert types["力学所 1956"] == "photograph"
    assert types["访谈 1990 第一部分"] == "audio"
    assert types["letter to Qian 1958 05"] == "letter"
    assert types["lecture 1964"] == "video"
    assert types["biography draft"] == "document"
    assert types["赵九章口述历史访谈"] == "audio"
    with catalog.session() as s:
        by_title = {i.title: (i.scientist.name if i.scientist else None)
                    for i in s.scalars(select(Item))}
        assert by_title["letter to Qian 1958 05"] == "赵九章"  # pinyin folder zhao_jiuzhang
        assert by_title["dubna 1959"] == "王淦昌"  # folder "Wang Ganchang"
        interview = s.scalars(select(Item).where(Item.title == "访谈 1990 第一部分")).one()
        assert interview.seconds == pytest.approx(20.0, abs=0.05)
        srt = next(f for f in interview.files if f.role == "transcript")
        assert s.get(FileText, srt.id).cues[1] == [6.0, 13.0, "回国以后，首先是建立力学研究所。"]
        photo = s.scalars(select(Item).where(Item.title == "力学所 1956")).one()
        f = photo.files[0]
        assert (f.camera_make, f.camera_model, f.date_taken) == ("Leica", "M3",
                                                                 "1956-10-08T14:20:00")
        assert f.gps_lat == pytest.approx(39.9042, abs=1e-4)
        assert photo.date == "1956"


def test_scientist_from_first_folder_when_unknown(cli, cli_json, demo, catalog):
    code, report = cli_json("ingest", str(demo / "collection"))
    assert report["new"] == 20  # manifest.csv at the root is skipped as a likely manifest
    with catalog.session() as s:
        names = set(s.scalars(select(Scientist.name)))
    assert names == {"钱学森", "Zhao Jiuzhang", "Wang Ganchang"}


def test_unknown_scientist_in_manifest_is_a_row_error(cli, demo, catalog_path):
    result = cli("ingest", str(demo / "collection"), "--manifest",
                 str(demo / "collection" / "manifest.csv"))
    assert result.exit_code == 2
    assert "row 2: unknown scientist '钱学森'" in result.stderr
    assert "row 4: unknown scientist '赵九章'" in result.stderr
    assert "Traceback" not in result.output


def test_scientist_and_type_options(cli, cli_json, tmp_path, catalog):
    cli("scientists", "add", "钱学森", "--variant", "Tsien Hsue-shen")
    folder = tmp_path / "box"
    make_jpeg(folder / "scan_a.jpg")
    make_jpeg(folder / "sub" / "scan_b.jpg")
    code, report = cli_json("ingest", str(folder), "--scientist", "tsien hsue-shen",
                            "--type", "手稿")
    assert (code, report["new"]) == (0, 2)
    with catalog.session() as s:
        assert {(i.scientist.name, i.type) for i in s.scalars(select(Item))} == \
            {("钱学森", "manuscript")}


def test_unknown_scientist_option(cli, tmp_path):
    (tmp_path / "box").mkdir()
    result = cli("ingest", str(tmp_path / "box"), "--scientist", "Nobody Atall")
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "unknown scientist 'Nobody Atall'" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["/no/such/folder"], "no such folder: /no/such/folder"),
    (["{tmp}", "--type", "poem"], "unknown type 'poem'"),
    (["{tmp}", "--manifest", "/no/such.csv"], "cannot read /no/such.csv"),
])
def test_usage_errors_are_one_line(cli, tmp_path, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = cli("ingest", *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_nested_roots_refused(cli, tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    result = cli("ingest", str(tmp_path / "a"), str(tmp_path / "a" / "b"))
    assert result.exit_code == 2 and "inside" in result.stderr


def test_changed_file_is_reextracted_with_event(cli, cli_json, demo, catalog):
    ingest_demo(cli, cli_json, demo)
    txt = demo / "collection" / "钱学森" / "信件" / "致陈赓_1956_02_17.txt"
    txt.write_text("更正后的录入稿：关于卫星。", encoding="utf-8")
    code, report = ingest_demo(cli, cli_json, demo)
    assert (report["changed"], report["new"], report["unchanged"]) == (1, 0, 19)
    with catalog.session() as s:
        f = s.scalars(select(File).where(File.path.like("%致陈赓_1956_02_17.txt"))).one()
        assert s.get(FileText, f.id).text == "更正后的录入稿：关于卫星。"
        kinds = [e.kind for e in s.scalars(select(Event).where(Event.file_id == f.id))]
        assert "modification" in kinds


def test_touched_file_is_not_changed(cli, cli_json, demo):
    ingest_demo(cli, cli_json, demo)
    photo = demo / "collection" / "钱学森" / "照片" / "力学所_1956.jpg"
    os.utime(photo, ns=(1, 1))
    code, report = ingest_demo(cli, cli_json, demo)
    assert (report["changed"], report["unchanged"]) == (0, 20)


def test_moved_file_keeps_its_item(cli, cli_json, demo, catalog):
    ingest_demo(cli, cli_json, demo)
    coll = demo / "collection"
    with catalog.session() as s:
        before = s.scalars(select(File).where(File.path.like("%归国_1955_10_08.jpg"))).one()
        accession, file_id = before.item.accession, before.id
    photo = coll / "钱学森" / "照片" / "归国_1955_10_08.jpg"
    photo.rename(coll / "钱学森" / "归国_1955_10_08.jpg")
    code, report = ingest_demo(cli, cli_json, demo)
    assert (report["moved"], report["new"], report["duplicates"]) == (1, 0, [])
    with catalog.session() as s:
        f = s.get(File, file_id)
        assert (f.path, f.item.accession) == ("钱学森/归国_1955_10_08.jpg", accession)
        assert s.scalar(select(func.count(File.id))) == 20


def test_manifest_change_updates_unchanged_items(cli, cli_json, demo, catalog):
    ingest_demo(cli, cli_json, demo)
    manifest = demo / "collection" / "manifest.csv"
    manifest.write_text(manifest.read_text("utf-8-sig").replace("Box 7", "Box 8"),
                        encoding="utf-8")
    code, report = ingest_demo(cli, cli_json, demo)
    with catalog.session() as s:
        item = s.scalars(select(Item).where(Item.title == "《工程控制论》手稿")).one()
        assert item.location == "Box 8"
        kinds = [e.kind for e in s.scalars(select(Event).where(Event.item_id == item.id))]
        assert "metadata modification" in kinds


def test_manifest_bad_rows_all_listed_nothing_written(cli, tmp_path, catalog):
    folder = tmp_path / "coll"
    make_jpeg(folder / "a.jpg")
    make_jpeg(folder / "b.jpg")
    manifest = write_manifest(tmp_path / "m.csv", [
        ["path", "type", "date", "access", "title"],
        ["a.jpg", "letter", "1950", "open", "fine"],
        ["missing.jpg", "letter", "", "", ""],
        ["b.jpg", "poem", "spring", "secret", ""],
        ["../outside.jpg", "", "", "", ""],
        ["a.jpg", "", "", "", "again"],
    ])
    result = cli("ingest", str(folder), "--manifest", str(manifest))
    assert result.exit_code == 2
    err = result.stderr
    assert "4 bad row(s); nothing was written" in err
    assert "row 3: no file 'missing.jpg'" in err
    assert "row 4: unknown type 'poem'" in err and "cannot read 'spring'" in err
    assert "unknown access 'secret'" in err
    assert "row 5:" in err and "row 6: path 'a.jpg' is already described in row 2" in err
    with catalog.session() as s:
        assert s.scalar(select(func.count(Item.id))) == 0


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_manifest_encodings(cli, cli_json, tmp_path, catalog, encoding):
    folder = tmp_path / "coll"
    make_jpeg(folder / "信件" / "a.jpg")
    manifest = write_manifest(tmp_path / "m.csv", [
        ["Path", "Title", "Date", "Access", "捐赠人"],
        ["信件/a.jpg", "钱学森致友人信", "1955年10月", "限制", "钱永刚"]], encoding)
    code, report = cli_json("ingest", str(folder), "--manifest", str(manifest))
    assert code == 0
    with catalog.session() as s:
        item = s.scalars(select(Item)).one()
        assert (item.title, item.date, item.access, item.extra) == (
            "钱学森致友人信", "1955-10", "restricted", {"捐赠人": "钱永刚"})


def test_awkward_names(cli, cli_json, tmp_path, catalog):
    folder = tmp_path / "coll"
    make_jpeg(folder / "emoji_🎉_照片.jpg")
    make_jpeg(folder / "cafe\u0301_nfd.jpg")
    make_jpeg(folder / "-starts-with-dash.JPG")
    bad = os.fsencode(str(folder)) + b"/latin1_\xe9t\xe9.jpg"
    with open(bad, "wb") as fh:
        fh.write((folder / "emoji_🎉_照片.jpg").read_bytes() + b"x")
    code, report = cli_json("ingest", str(folder))
    assert (code, report["new"], report["problems"]) == (0, 4, [])
    with catalog.session() as s:
        paths = set(s.scalars(select(File.path)))
        raw = s.scalars(select(File.path_raw).where(File.path_raw.is_not(None))).one()
    assert "latin1_\\xe9t\\xe9.jpg" in paths and raw == b"latin1_\xe9t\xe9.jpg"
    assert "emoji_🎉_照片.jpg" in paths and "cafe\u0301_nfd.jpg" in paths
    code, report = cli_json("ingest", str(folder))
    assert (report["unchanged"], report["new"]) == (4, 0)


def test_symlinks_are_not_followed(cli, cli_json, tmp_path):
    outside = tmp_path / "outside"
    make_jpeg(outside / "private.jpg")
    folder = tmp_path / "coll"
    make_jpeg(folder / "real.jpg")
    (folder / "link_out.jpg").symlink_to(outside / "private.jpg")
    (folder / "dir_out").symlink_to(outside, target_is_directory=True)
    (folder / "link_in.jpg").symlink_to(folder / "real.jpg")
    code, report = cli_json("ingest", str(folder))
    assert report["new"] == 1
    reasons = {s["path"]: s["reason"] for s in report["skipped"]}
    assert reasons["link_out.jpg"].startswith("symbolic link out of the root")
    assert reasons["dir_out"].startswith("symbolic link out of the root")
    assert reasons["link_in.jpg"].startswith("symbolic link inside the root")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads folders whatever their mode")
def test_unreadable_folder_does_not_stop_the_walk(cli_json, tmp_path):
    folder = tmp_path / "coll"
    make_jpeg(folder / "ok.jpg")
    locked = folder / "locked"
    make_jpeg(locked / "x.jpg")
    locked.chmod(0)
    try:
        code, report = cli_json("ingest", str(folder))
    finally:
        locked.chmod(0o755)
    assert report["new"] == 1
    assert any(s["path"] == "locked" and "unreadable" in s["reason"] for s in report["skipped"])


def test_broken_files_are_catalogued_with_their_problem(cli, cli_json, tmp_path, catalog):
    folder = tmp_path / "coll"
    make_jpeg(folder / "good.jpg")
    (folder / "zero_bytes.wav").write_bytes(b"")
    (folder / "random_bytes.mp3").write_bytes(bytes((i * 7919) % 251 for i in range(5000)))
    (folder / "header_only.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    code, report = cli_json("ingest", str(folder))
    assert code == 1 and report["new"] == 4
    assert {p["path"] for p in report["problems"]} == {"zero_bytes.wav", "random_bytes.mp3",
                                                       "header_only.pdf"}
    with catalog.session() as s:
        problems = {f.path: f.problem for f in s.scalars(select(File))}
        stored = {p.path for p in s.scalars(select(IngestProblem)
                                            .where(IngestProblem.kind == "problem"))}
    assert problems["good.jpg"] is None and problems["zero_bytes.wav"].startswith("empty")
    assert stored == {"zero_bytes.wav", "random_bytes.mp3", "header_only.pdf"}
    # Problems are not re-reported on a re-run, unless asked for.
    assert cli_json("ingest", str(folder))[1]["problems"] == []
    code, again = cli_json("ingest", str(folder), "--retry-problems")
    assert code == 1 and len(again["problems"]) == 3


def test_parser_timeout_is_one_files_problem(cli_json, tmp_path, catalog):
    folder = tmp_path / "coll"
    make_jpeg(folder / "quick.jpg")
    # 100,000 pages take about 4 s of CPU to read with PDFium here (30 MB): four times the
    # limit. Fewer pages of more text do not do: the text is read only up to its limit, and
    # 4,000 pages took about the limit itself, so the test passed or failed by the machine.
    make_pdf(folder / "long_report.pdf", ["导弹"] * 100_000)
    code, report = cli_json("ingest", str(folder), "--timeout", "1", "--jobs", "1")
    assert code == 1
    assert report["problems"][0]["path"] == "long_report.pdf"
    assert report["problems"][0]["reason"].startswith("timed out")
    with catalog.session() as s:
        f = s.scalars(select(File).where(File.path == "long_report.pdf")).one()
        assert f.sha256 and len(f.sha256) == 64 and f.problem.startswith("timed out")


def test_dry_run_writes_nothing(cli_json, demo, catalog_path):
    code, report = cli_json("ingest", str(demo / "collection"), "--dry-run")
    # manifest.csv at the root is skipped as a likely manifest (#12.1)
    assert (code, report["dry_run"], report["new"], report["seen"]) == (0, True, 20, 20)
    assert nothing_written(catalog_path)


def test_dry_run_against_existing_catalog(cli, cli_json, demo):
    ingest_demo(cli, cli_json, demo)
    make_wav(demo / "collection" / "钱学森" / "录音" / "new_talk.wav", 1.0)
    code, report = cli_json("ingest", str(demo / "collection"), "--dry-run", "--manifest",
                            str(demo / "collection" / "manifest.csv"))
    assert (report["new"], report["unchanged"]) == (1, 20)
    _, real = ingest_demo(cli, cli_json, demo)
    assert real["new"] == 1


def test_identical_files_in_one_batch_are_duplicates(cli_json, tmp_path):
    folder = tmp_path / "coll"
    make_photo(folder / "a" / "one.jpg")
    shutil.copy(folder / "a" / "one.jpg", folder / "two.jpg")
    code, report = cli_json("ingest", str(folder))
    assert report["new"] == 2 and len(report["duplicates"]) == 1


def test_sidecar_only_item_gets_type_of_its_main_file(cli_json, tmp_path, catalog):
    folder = tmp_path / "coll" / "录音"
    make_audio(folder / "talk.mp3", 1.0)
    (folder / "talk.txt").write_text("访谈记录", encoding="utf-8")
    cli_json("ingest", str(tmp_path / "coll"), "--jobs", "2")
    with catalog.session() as s:
        item = s.scalars(select(Item)).one()
        assert item.type == "audio" and len(item.files) == 2


def test_ingest_run_is_recorded(cli, cli_json, demo, catalog):
    ingest_demo(cli, cli_json, demo)
    with catalog.session() as s:
        run = s.scalars(select(IngestRun)).one()
        assert run.status == "completed" and run.counts["new"] == 20
        assert {p.kind for p in run.problems} == {"skipped", "problem", "duplicate"}


def test_only_folders_named_like_people_become_scientists(cli, cli_json, tmp_path, catalog):
    """#12.25: ingesting /etc/ssl made a scientist "Certs", the corpus "Images"."""
    root = tmp_path / "ssl"
    (root / "certs").mkdir(parents=True)
    (root / "certs" / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n")
    make_jpeg(root / "Images" / "a.jpg")
    make_jpeg(root / "备份" / "b.jpg")
    make_jpeg(root / "zhao_jiuzhang" / "c.jpg")
    make_jpeg(root / "华罗庚" / "d.jpg")
    code, report = cli_json("ingest", str(root))
    assert code == 0
    assert report["unattributed"] == ["Images", "certs", "备份"]
    with catalog.session() as s:
        assert sorted(s.scalars(select(Scientist.name))) == ["Zhao Jiuzhang", "华罗庚"]
        owners = {f.path: (f.item.scientist.name if f.item.scientist else None)
                  for f in s.scalars(select(File))}
    assert owners == {"certs/ca.pem": None, "Images/a.jpg": None, "备份/b.jpg": None,
                      "zhao_jiuzhang/c.jpg": "Zhao Jiuzhang", "华罗庚/d.jpg": "华罗庚"}
    make_jpeg(root / "Images" / "e.jpg")
    text = cli("ingest", str(root)).stdout
    assert "Not attributed to a scientist" in text and "  Images/" in text
    assert "--scientist" in text
    # As the hint says: --scientist on a re-run attributes what has no scientist, only that.
    cli("scientists", "add", "钱学森")
    code, report = cli_json("ingest", str(root), "--scientist", "钱学森")
    assert report["unattributed"] == []
    with catalog.session() as s:
        owners = {f.path: f.item.scientist.name for f in s.scalars(select(File))}
        events = s.scalars(select(Event).where(Event.field == "scientist")).all()
    assert owners == {"certs/ca.pem": "钱学森", "Images/a.jpg": "钱学森", "Images/e.jpg": "钱学森",
                      "备份/b.jpg": "钱学森", "zhao_jiuzhang/c.jpg": "Zhao Jiuzhang",
                      "华罗庚/d.jpg": "华罗庚"}
    assert {(e.old_value, e.new_value) for e in events} == {(None, "钱学森")}
    assert len(events) == 4  # one per item that had no scientist


def test_a_used_manifest_is_never_an_item(cli, cli_json, tmp_path, catalog):
    """#12.1: a re-run without --manifest catalogued manifest.csv as an open item, so the
    titles and descriptions of closed items came back from search and the file downloaded."""
    root = tmp_path / "coll"
    make_jpeg(root / "zhao_jiuzhang" / "secret.jpg")
    manifest = write_manifest(root / "manifest.csv", [
        ["path", "title", "access", "description"],
        ["zhao_jiuzhang/secret.jpg", "绝密导弹图纸", "closed", "核试验 内容"]])
    code, report = cli_json("ingest", str(root), "--manifest", str(manifest))
    assert code == 0 and report["new"] == 1
    # Copied elsewhere under the root, under another name: still the same manifest.
    shutil.copy(manifest, root / "zhao_jiuzhang" / "rows_backup.csv")
    code, report = cli_json("ingest", str(root))
    assert (code, report["new"], report["unchanged"]) == (0, 0, 1)
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    assert skipped["manifest.csv"].startswith("a manifest this catalog has used")
    assert skipped["zhao_jiuzhang/rows_backup.csv"].startswith("the same bytes as a manifest")
    hits = cli_json("search", "核试验")[1]
    assert hits["total"] == 0
    with catalog.session() as s:
        assert [f.path for f in s.scalars(select(File))] == ["zhao_jiuzhang/secret.jpg"]


def test_a_csv_with_a_path_column_at_the_root_is_a_likely_manifest(cli_json, tmp_path, catalog):
    root = tmp_path / "coll"
    make_jpeg(root / "a.jpg")
    write_manifest(root / "inventory.csv", [["Path", "Title"], ["a.jpg", "内部"]],
                   encoding="gb18030")
    write_manifest(root / "measurements.csv", [["x", "y"], ["1", "2"]])
    (root / "sub").mkdir()
    write_manifest(root / "sub" / "deeper.csv", [["path", "title"], ["a.jpg", "x"]])
    code, report = cli_json("ingest", str(root))
    assert {s["path"]: s["reason"] for s in report["skipped"]} == {
        "inventory.csv": "likely a manifest (a CSV at the root with a path column); "
                         "pass --include-manifests to catalogue it"}
    assert report["new"] == 3  # a.jpg, measurements.csv and sub/deeper.csv
    code, report = cli_json("ingest", str(root), "--include-manifests")
    assert (report["new"], report["skipped"]) == (1, [])


def test_an_item_catalogued_from_a_manifest_is_withdrawn_when_it_is_used(cli, cli_json,
                                                                          tmp_path, catalog):
    root = tmp_path / "coll"
    make_jpeg(root / "a.jpg")
    (root / "meta").mkdir()
    manifest = write_manifest(root / "meta" / "rows.csv", [
        ["path", "title", "access", "description"], ["a.jpg", "封存照片", "closed", "封存 内容"]])
    code, report = cli_json("ingest", str(root))  # not at the root: catalogued
    assert report["new"] == 2
    code, report = cli_json("ingest", str(root), "--manifest", str(manifest))
    with catalog.session() as s:
        item = s.scalars(select(Item).join(File).where(File.path == "meta/rows.csv")).one()
        assert item.withdrawn_at is not None and "used as a manifest" in item.withdrawn_reason
        assert not item_is_public(item)  # the one rule every public surface asks
        assert "withdrawal" in [e.kind for e in s.scalars(select(Event)
                                                            .where(Event.item_id == item.id))]


def test_bad_manifest_leaves_no_catalog_behind(cli, tmp_path, catalog_path):
    """#12.16: "nothing was written", yet an empty catalog file was left behind."""
    make_jpeg(tmp_path / "coll" / "a.jpg")
    manifest = write_manifest(tmp_path / "m.csv", [["path", "type"], ["missing.jpg", "poem"]])
    result = cli("ingest", str(tmp_path / "coll"), "--manifest", str(manifest))
    assert result.exit_code == 2 and "nothing was written" in result.stderr
    assert nothing_written(catalog_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coll", "m.csv"]
    result = cli("ingest", str(tmp_path / "coll"), "--scientist", "Nobody Known")
    assert result.exit_code == 2 and nothing_written(catalog_path)


def test_a_move_never_rewrites_older_events(cli, cli_json, demo, catalog):
    """#12.15: after a move, `show` named the new path in the events of the ingestion."""
    ingest_demo(cli, cli_json, demo)
    coll = demo / "collection"
    photos = coll / "钱学森" / "照片"
    (photos / "归国_1955_10_08.jpg").rename(coll / "钱学森" / "归国_1955_10_08.jpg")
    ingest_demo(cli, cli_json, demo)
    with catalog.session() as s:
        accession = s.scalars(select(Item.accession).join(File)
                              .where(File.path == "钱学森/归国_1955_10_08.jpg")).one()
        move = s.scalars(select(Event).where(Event.kind == "move")).one()
        assert (move.old_value, move.new_value) == ("钱学森/照片/归国_1955_10_08.jpg",
                                                    "钱学森/归国_1955_10_08.jpg")
    shown = cli_json("show", accession)[1]["events"]
    files = [(e["kind"], e["file"]) for e in shown]
    assert files[0] == ("ingestion", "钱学森/照片/归国_1955_10_08.jpg")
    assert ("metadata extraction", "钱学森/照片/归国_1955_10_08.jpg") in files
    assert files[-1] == ("move", "钱学森/归国_1955_10_08.jpg")


def test_retry_problems_on_an_unchanged_empty_file_changes_nothing(cli_json, tmp_path):
    """#12.14: `--retry-problems` on an unchanged zero-byte file reported `changed 1`."""
    (tmp_path / "coll").mkdir()
    (tmp_path / "coll" / "empty.pdf").write_bytes(b"")
    make_jpeg(tmp_path / "coll" / "fine.jpg")
    code, report = cli_json("ingest", str(tmp_path / "coll"))
    assert (code, report["new"], len(report["problems"])) == (1, 2, 1)
    code, report = cli_json("ingest", str(tmp_path / "coll"), "--retry-problems")
    assert (report["changed"], report["unchanged"]) == (0, 2)
    assert [p["path"] for p in report["problems"]] == ["empty.pdf"]  # tried, still empty


def test_deleted_files_are_missing_and_restored_when_they_return(cli, cli_json, demo, catalog,
                                                                 tmp_path):
    """Issue 11, missing files: a deleted file is `missing` (never deleted from the catalog),
    once, with an event; a whole folder gone too; back in place it is restored, and turning
    up elsewhere with the same bytes it is moved."""
    ingest_demo(cli, cli_json, demo)
    coll = demo / "collection"
    photo = coll / "钱学森" / "照片" / "力学所_1956.jpg"
    saved = tmp_path / "saved.jpg"
    shutil.copy2(photo, saved)
    photo.unlink()
    shutil.move(coll / "zhao_jiuzhang" / "video", tmp_path / "video")
    code, report = ingest_demo(cli, cli_json, demo)
    assert report["missing"] == ["zhao_jiuzhang/video/lecture_1964.mp4",
                                 "钱学森/照片/力学所_1956.jpg"]
    assert (report["new"], report["changed"], report["moved"]) == (0, 0, 0)
    with catalog.session() as s:
        f = s.scalars(select(File).where(File.path == "钱学森/照片/力学所_1956.jpg")).one()
        assert f.status == "missing" and f.status_since is not None
        assert s.scalar(select(func.count(File.id))) == 20  # never deleted
        assert s.scalar(select(func.count(Event.id)).where(Event.kind == "missing")) == 2
    code, report = ingest_demo(cli, cli_json, demo)  # still gone: listed, no second event
    assert len(report["missing"]) == 2
    with catalog.session() as s:
        assert s.scalar(select(func.count(Event.id)).where(Event.kind == "missing")) == 2
    shutil.copy2(saved, photo)
    (coll / "zhao_jiuzhang" / "lectures").mkdir()
    shutil.move(tmp_path / "video" / "lecture_1964.mp4", coll / "zhao_jiuzhang" / "lectures")
    code, report = ingest_demo(cli, cli_json, demo)
    assert report["missing"] == []
    assert report["restored"] == ["钱学森/照片/力学所_1956.jpg"]
    assert (report["moved"], report["new"], report["changed"]) == (1, 0, 0)
    with catalog.session() as s:
        statuses = {f.path: f.status for f in s.scalars(select(File))}
        photo_id = s.scalars(select(File.id)
                             .where(File.path == "钱学森/照片/力学所_1956.jpg")).one()
        kinds = [e.kind for e in s.scalars(select(Event).where(Event.file_id == photo_id)
                                           .order_by(Event.id))]
    assert statuses["钱学森/照片/力学所_1956.jpg"] == "present"
    assert statuses["zhao_jiuzhang/lectures/lecture_1964.mp4"] == "present"
    assert kinds[-2:] == ["missing", "restored"]


def test_ingest_rerun_stats_export(cli, demo):
    """The round trip once known only on PostgreSQL (tests/test_postgres.py), on both engines."""
    assert cli("scientists", "import", str(demo / "scientists.csv")).exit_code == 0
    coll = demo / "collection"
    first = cli("ingest", str(coll), "--manifest", str(coll / "manifest.csv"), "--json")
    report = json.loads(first.stdout)
    assert (first.exit_code, report["new"], len(report["duplicates"])) == (1, 20, 1)
    again = json.loads(cli("ingest", str(coll), "--json").stdout)
    assert (again["new"], again["unchanged"]) == (0, 20)  # a used manifest is never an item (#12.1)
    stats = json.loads(cli("stats", "--by", "year", "--json").stdout)
    assert stats["items"] == 15 and stats["by_year"]["1956"] == 2
    assert stats["audio_minutes"] == pytest.approx(50 / 60, abs=0.05)
    records = [json.loads(x) for x in cli("export").stdout.splitlines()]
    assert len(records) == 20 and all(tuple(r) == EXPORT_KEYS for r in records)
