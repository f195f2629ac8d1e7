"""Pure functions: dates, names, classification, paths, transcripts, identification."""
from __future__ import annotations


import subprocess
import sys

import pytest

from archive.accession import accession_prefix, format_accession
from archive.dates import date_from_filename, iso_exif_datetime, parse_date
from archive.names import display_name, name_code, name_keys
from archive.paths import catalog_path, manifest_key
from archive.fields import type_word
from ingest.classify import Grouping, material_type, plan_folder, split_page
from ingest.walk import junk_reason
from media.identify import identify
from media.transcripts import parse_transcript


@pytest.mark.parametrize("text, shown, start, end, precision", [
    ("1950", "1950", "1950-01-01", "1950-12-31", "year"),
    ("1950-03", "1950-03", "1950-03-01", "1950-03-31", "month"),
    ("1950/3/15", "1950-03-15", "1950-03-15", "1950-03-15", "day"),
    ("1950年3月15日", "1950-03-15", "1950-03-15", "1950-03-15", "day"),
    ("1950年3月", "1950-03", "1950-03-01", "1950-03-31", "month"),
    ("约1950", "circa 1950", "1945-01-01", "1955-12-31", "circa"),
    ("c. 1950", "circa 1950", "1945-01-01", "1955-12-31", "circa"),
    ("1950?", "circa 1950", "1945-01-01", "1955-12-31", "circa"),
    ("1950-1955", "1950/1955", "1950-01-01", "1955-12-31", "range"),
    ("1950..1955", "1950/1955", "1950-01-01", "1955-12-31", "range"),
    ("1950—1955", "1950/1955", "1950-01-01", "1955-12-31", "range"),
    ("1950至1955", "1950/1955", "1950-01-01", "1955-12-31", "range"),
    ("1952-02", "1952-02", "1952-02-01", "1952-02-29", "month"),
])
def test_parse_date(text, shown, start, end, precision):
    d = parse_date(text)
    assert (d.text, d.start.isoformat(), d.end.isoformat(), d.precision) == \
        (shown, start, end, precision)


@pytest.mark.parametrize("text", ["spring", "1950-02-30", "1960..1950", "19500", "13/1950"])
def test_parse_date_rejects(text):
    with pytest.raises(ValueError, match="cannot read"):
        parse_date(text)


def test_parse_date_empty():
    assert parse_date("") is None and parse_date(None) is None and parse_date("  ") is None


@pytest.mark.parametrize("name, expected", [
    ("letter_1950_03_15.jpg", "1950-03-15"), ("致陈赓_1956_02_17_p2", "1956-02-17"),
    ("1958-03 report", "1958-03"), ("x_p2.jpg", None), ("scan_00012345.jpg", None),
    ("photo_1955.jpg", "1955"),
])
def test_date_from_filename(name, expected):
    assert date_from_filename(name) == expected


def test_iso_exif_datetime():
    assert iso_exif_datetime("2008:05:30 15:56:01") == "2008-05-30T15:56:01"
    assert iso_exif_datetime("0000:00:00 00:00:00") is None
    assert iso_exif_datetime("garbage") is None


@pytest.mark.parametrize("form", ["钱学森", "錢學森", "Qian Xuesen", "qian_xuesen", "QIANXUESEN",
                                  "Xuesen Qian", "ｑｉａｎ ｘｕｅｓｅｎ"])
def test_name_forms_share_a_key(form):
    assert name_keys(form) & name_keys("钱学森")


def test_different_names_do_not_share_keys():
    assert not name_keys("钱学森") & name_keys("钱三强")
    assert not name_keys("Qian Xuesen") & name_keys("Qian Sanqiang")


def test_name_code_and_display():
    assert name_code("钱学森") == "QXS"
    assert name_code("Zhao Jiuzhang") == "ZJ"
    assert name_code("???") == "X"
    assert display_name("zhao_jiuzhang") == "Zhao Jiuzhang"
    assert display_name("钱学森") == "钱学森"


def test_accession_format():
    assert format_accession(accession_prefix("QXS", "letter"), 12) == "QXS-L-00012"
    assert accession_prefix(None, "audio") == "UNK-A"


@pytest.mark.parametrize("word, expected", [
    ("信件", "letter"), ("书信", "letter"), ("Letters", "letter"), ("01_letters", "letter"),
    ("手稿", "manuscript"), ("manuscripts", "manuscript"), ("照片", "photograph"),
    ("相片", "photograph"), ("Photos", "photograph"), ("录音", "audio"), ("音频", "audio"),
    ("视频", "video"), ("录像", "video"), ("video", "video"), ("misc stuff", None),
    ("钱学森", None),
])
def test_type_word(word, expected):
    assert type_word(word) == expected


@pytest.mark.parametrize("kind, folders, expected", [
    ("image", ["钱学森", "书信"], "letter"),
    ("image", ["钱学森", "照片"], "photograph"),
    ("image", ["钱学森"], "photograph"),
    ("pdf", ["钱学森", "手稿"], "manuscript"),
    ("pdf", ["钱学森", "录音"], "document"),
    ("audio", ["钱学森", "视频"], "audio"),
    ("video", ["钱学森", "录音"], "video"),
    ("pdf", ["照片"], "document"),
    ("image", ["letters", "photos"], "photograph"),
    ("text", [], "document"),
])
def test_material_type(kind, folders, expected):
    assert material_type(kind, folders) == expected


def test_split_page():
    assert split_page("letter_1950_p2") == ("letter_1950", 2)
    assert split_page("letter-page12") == ("letter", 12)
    assert split_page("photo") == ("photo", None)


def test_plan_folder_groups_pages_and_sidecars():
    plan = plan_folder(["x.jpg", "x_p2.jpg", "x.txt", "y.txt", "z_p1.JPG", "z_p2.JPG",
                        "z.srt", "talk.WAV", "talk.vtt", "talk.xml"])
    assert plan["x.jpg"] == Grouping("x", "master", ".jpg")
    assert plan["x_p2.jpg"] == Grouping("x", "page", ".jpg")
    assert plan["x.txt"] == Grouping("x", "transcript", ".jpg")
    assert plan["y.txt"] == Grouping("y", "master", ".txt")
    assert plan["z_p1.JPG"].role == plan["z_p2.JPG"].role == "page"
    assert plan["z.srt"] == Grouping("z", "transcript", ".jpg")
    assert plan["talk.vtt"] == Grouping("talk", "transcript", ".wav")
    assert plan["talk.xml"] == Grouping("talk", "sidecar", ".wav")


def test_catalog_path_keeps_bad_bytes():
    assert catalog_path("钱学森/信件/x.jpg") == ("钱学森/信件/x.jpg", None)
    text, raw = catalog_path("bad/\udcff.jpg")
    assert text == "bad/\\xff.jpg" and raw == b"bad/\xff.jpg"


def test_manifest_key_normalises():
    nfd = "cafe\u0301/x.jpg"
    assert manifest_key(nfd) == "caf\u00e9/x.jpg"
    assert manifest_key("./a\\b.jpg") == "a/b.jpg"


@pytest.mark.parametrize("name, is_dir, reason", [
    (".DS_Store", False, "system junk"), ("Thumbs.db", False, "system junk"),
    ("._x.jpg", False, "system junk"), ("desktop.ini", False, "system junk"),
    ("~$draft.docx", False, "system junk"), (".git", True, "hidden folder"),
    (".hidden.txt", False, "hidden file"), ("信件", True, None), ("x.jpg", False, None),
])
def test_junk_reason(name, is_dir, reason):
    assert junk_reason(name, is_dir) == reason


def test_parse_srt_and_vtt():
    srt = "1\n00:00:01,500 --> 00:00:04,000\n我们开始\n\n2\n00:00:04,000 --> 00:01:02,250\n" \
          "<i>导弹</i> 研究\n第二行\n"
    cues = parse_transcript(srt)
    assert [(c.start, c.end, c.text) for c in cues] == [
        (1.5, 4.0, "我们开始"), (4.0, 62.25, "导弹 研究 第二行")]
    vtt = "\ufeffWEBVTT\n\nNOTE hi\n\nintro\n00:05.000 --> 00:07.250 align:start\n" \
          "<v Qian>导弹</v>\n"
    assert [(c.start, c.end, c.text) for c in parse_transcript(vtt)] == [(5.0, 7.25, "导弹")]
    assert parse_transcript("no cues here") == ()


@pytest.mark.parametrize("head, name, kind, fmt", [
    (b"%PDF-1.7\n", "scan.jpg", "pdf", "pdf"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a.JPG", "image", "jpeg"),
    (b"RIFF\x00\x00\x00\x00WAVEfmt ", "x.wav", "av", "wav"),
    (b"\x00\x00\x00\x18ftypqt  ", "clip.mp4", "av", "mov"),
    (b"\x00\x00\x00\x18ftypheic", "x.jpg", "image", "heic"),
    (b"1\n00:00:01,000 --> 00:00:02,000\nhi\n", "x.srt", "transcript", "srt"),
    (b"WEBVTT\n\n", "x.txt", "transcript", "vtt"),
    ("钱学森".encode("gb18030"), "x.txt", "text", "txt"),
    (b"", "empty.mp3", "empty", "empty"),
    (b"PK\x03\x04", "a.docx", "docx", "docx"),
    (b"\x1aE\xdf\xa3\x01\x00\x00\x00\x00\x00\x00\x1fB\x86\x81\x01webm", "a.mkv", "av", "webm"),
])
def test_identify_by_content(head, name, kind, fmt):
    found = identify(head, name)
    assert (found.kind, found.name) == (kind, fmt)


def test_durations():
    from archive.durations import clock, hms
    assert (clock(125.5), clock(125.9), clock(3723), clock(None)) == ("02:05", "02:05",
                                                                       "1:02:03", "")
    assert (hms(20), hms(3725.4), hms(None)) == ("0:00:20", "1:02:05", "")


def _docstring_examples(module, function: str) -> list[tuple[str, bool]]:
    import re
    return [(m.group(1), m.group(2) == "True") for m in re.finditer(
        function + r'\("(.+?)"\)\s+-> (True|False)', module.__doc__)]


def test_could_be_person_name_docstring_table():
    """#12.25: only folders whose names can be people's become scientists."""
    import archive.personnames as personnames
    examples = _docstring_examples(personnames, "could_be_person_name")
    assert len(examples) >= 20
    for name, expected in examples:
        assert personnames.could_be_person_name(name) is expected, name


@pytest.mark.parametrize("name", ["Certs", "Images", "Audio-bad", "documents", "misc", "backup",
                                  "New Folder", "扫描件", "备份", "新建文件夹", "2019年"])
def test_folders_that_are_not_names(name):
    from archive.personnames import could_be_person_name
    assert not could_be_person_name(name)


def test_wade_giles_spelt_as_pypinyin_spells_every_syllable():
    """#13.8: ingest reads Wade-Giles from pypinyin's tables without importing pypinyin; every
    reading in its character table is spelt as pypinyin's Style.WADEGILES spells it, and the
    surnames keep every spelling pypinyin gave them."""
    from pypinyin import Style, pinyin
    from pypinyin.pinyin_dict import pinyin_dict
    from pypinyin.style import convert

    from archive import personnames
    from archive.names import _toneless
    toned = {r for readings in pinyin_dict.values() for r in readings.split(",")}
    assert len(toned) > 1000
    differ = [(r, convert(r, Style.WADEGILES, strict=True), personnames.wade_giles(_toneless(r)))
              for r in sorted(toned)
              if convert(r, Style.WADEGILES, strict=True) != personnames.wade_giles(_toneless(r))]
    assert differ == []
    before = set()  # how the surnames were read through pypinyin itself, phrases included
    for surname in personnames._SURNAMES | personnames._COMPOUND_SURNAMES:
        for style in (Style.NORMAL, Style.WADEGILES):
            readings = pinyin(surname, style=style, heteronym=len(surname) == 1)
            if len(surname) == 1:
                before.update(personnames._plain(r) for r in readings[0])
            else:
                before.add("".join(personnames._plain(r[0]) for r in readings))
    assert before - personnames._surnames() == set()


def test_romanised_folder_names_are_judged_without_importing_pypinyin():
    """#13.8: a romanised folder name ("Certs", "Qian Xuesen") loaded pypinyin, whose import
    reads its table of phrases (0.3-1.3 s of an ingest) to use none of it."""
    code = ("import sys\nfrom archive.personnames import could_be_person_name\n"
            "assert could_be_person_name('Qian Xuesen') and could_be_person_name('Tsien Hsue-shen')"
            "\nassert not could_be_person_name('Certs')\nprint(sorted(m for m in sys.modules "
            "if m.split('.')[0] == 'pypinyin'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("head, expected", [
    (b"path,title\na.jpg,x\n", True), (b"\xef\xbb\xbf Path ,Title\r\n", True),
    ("路径,path,标题\n".encode("gb18030"), True), (b"\xef\xbb\xbfPath;Title\r\n", False),
    (b"name,variants\n", False), (b"", False), (b"\xff\xfe\x00garbage", False)])
def test_has_path_column(head, expected):
    from ingest.manifest_guard import has_path_column
    assert has_path_column(head) is expected


def test_paths_at_events():
    """#12.15: provenance names each file as it was when the event happened."""
    from archive.records import paths_at_events
    assert paths_at_events([(1, "ingestion", None, None), (1, "move", "a/x.jpg", None),
                            (2, "ingestion", None, None), (1, "move", "b/x.jpg", None),
                            (1, "fixity check", None, None)],
                           {1: "c/x.jpg", 2: "y.jpg"}) == \
        ["a/x.jpg", "b/x.jpg", "y.jpg", "c/x.jpg", "c/x.jpg"]
    assert paths_at_events([(1, "ingestion", None, None), (1, "move", None, "a/x -> b/x")],
                           {1: "b/x"}) == ["a/x", "b/x"]
    assert paths_at_events([(None, "withdrawal", None, None)], {}) == [None]


def test_one_han_pattern_for_names_analysis_and_snippets():
    from archive.han import HAN, HAN_RUN
    from archive.names import has_han
    assert HAN.match("钱") and HAN.match("𠀋") and HAN.match("錢") and not HAN.match("A")
    assert HAN_RUN.findall("钱学森 Qian 錢") == ["钱学森", "錢"]
    assert has_han("𠀋") and not has_han("Qian Xuesen")


def test_a_run_of_free_words_stops_at_a_field_or_a_phrase():
    from search.query import Field, Text, free_word_run
    nodes = [Text("Qian"), Text("Xuesen"), Field("type", "letter"), Text("x")]
    assert free_word_run(nodes, 0) == [Text("Qian"), Text("Xuesen")]
    assert free_word_run(nodes, 2) == []
    assert free_word_run([Text("导弹", phrase=True)], 0) == []
