"""`archive derive` and the media derivatives, on real generated files."""
from __future__ import annotations

import json
from pathlib import Path

import av
import pytest
from PIL import Image
from sqlalchemy import select

from archive.derivatives import derivative_path, page_image_path
from archive.models import Event, File
from benchmarks.generators.samples import (
    exif_block, make_audio, make_docx, make_jpeg, make_pdf, make_photo, make_tiff, make_video,
    make_wav, truncate,
)
from ingest.derive import wanted
from media.derivatives import image_thumbnail, pdf_thumbnail, poster_frame, waveform
from tests.catalogs import catalog_env, catalog_url


def test_thumbnail_applies_orientation_and_fits(tmp_path: Path):
    src = make_jpeg(tmp_path / "rotated.jpg", (1200, 900), exif_block(orientation=6))
    made = image_thumbnail(str(src), str(tmp_path / "t.jpg"))
    with Image.open(made.path) as im:
        assert im.size == (240, 320)  # 1200x900 turned upright, then fitted in 320


def test_thumbnail_of_16_bit_multipage_tiff(tmp_path: Path):
    src = make_tiff(tmp_path / "p.tif", (500, 400), pages=2)
    im16 = Image.new("I;16", (300, 200))
    im16.putdata([i * 300 % 65535 for i in range(300 * 200)])
    im16.save(tmp_path / "deep.tif")
    for source, width in ((src, 320), (tmp_path / "deep.tif", 300)):  # never enlarged
        made = image_thumbnail(str(source), str(tmp_path / (source.stem + ".jpg")))
        assert made.width == width and Path(made.path).stat().st_size > 500


def test_truncated_scan_still_gets_a_thumbnail(tmp_path: Path):
    src = truncate(make_photo(tmp_path / "cut.jpg"), 0.5)
    assert image_thumbnail(str(src), str(tmp_path / "t.jpg")).width == 320


def test_text_pdf_gets_its_first_page_drawn(tmp_path: Path):
    made = pdf_thumbnail(str(make_pdf(tmp_path / "m.pdf", ["一", "二", "三"])),
                         str(tmp_path / "t.jpg"))
    assert (made.kind, made.height) == ("thumbnail", 320)  # an A4 page, not a card
    assert made.tool.startswith("pypdfium2")


def test_pdf_that_cannot_be_drawn_gets_a_card_naming_why(tmp_path: Path):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + bytes(2000))
    assert pdf_thumbnail(str(broken), str(tmp_path / "t.jpg")).kind == "placeholder"


def test_scanned_pdf_gets_its_page(tmp_path: Path):
    page = make_jpeg(tmp_path / "page.jpg", (600, 800))
    Image.open(page).save(tmp_path / "scan.pdf", "PDF", resolution=100)
    made = pdf_thumbnail(str(tmp_path / "scan.pdf"), str(tmp_path / "t.jpg"))
    assert (made.kind, made.width, made.height) == ("thumbnail", 240, 320)


def test_poster_frame_and_waveform(tmp_path: Path):
    poster = poster_frame(str(make_video(tmp_path / "v.mp4", 3.0)), str(tmp_path / "p.jpg"))
    assert (poster.width, poster.height) == (320, 240)
    wave = waveform(str(make_audio(tmp_path / "a.mp3", 5.0)), str(tmp_path / "w.png"))
    with Image.open(wave.path) as im:
        assert im.size == (1200, 160)
        # the tone bursts draw ink in the middle row across the whole width
        assert sum(1 for x in range(0, 1200, 10) if im.getpixel((x, 80)) != (247, 246, 242)) > 100


@pytest.mark.parametrize("args, expected", [
    (("image/jpeg", "image", "jpeg", {}, False), ["thumbnail"]),
    (("application/pdf", "pdf", "pdf", {}, True), ["thumbnail", "pages"]),
    (("audio/wav", "audio", "wav", {}, True), ["waveform", "access-audio"]),
    (("audio/mpeg", "audio", "mp3", {}, True), ["waveform"]),
    (("video/mp4", "video", "mp4", {"video_codec": "h264"}, True), ["poster"]),
    (("video/x-matroska", "video", "mkv", {"video_codec": "h264"}, True),
     ["poster", "access-video"]),
    (("application/zip", "other", "zip", {}, True), []),
])
def test_wanted(args, expected):
    assert wanted(*args) == expected


def test_derive_command(cli, cli_json, tmp_path, catalog, settings):
    folder = tmp_path / "coll"
    make_photo(folder / "照片" / "p.jpg", exif=exif_block("Leica", "M3"))
    make_wav(folder / "录音" / "talk.wav", 3.0)
    make_video(folder / "视频" / "lecture.mkv", 2.0, container="matroska")
    make_pdf(folder / "手稿" / "m.pdf", ["导弹"])
    make_docx(folder / "bio.docx", ["传略"])
    (folder / "录音" / "talk.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\n你好\n",
                                            encoding="utf-8")
    cli_json("ingest", str(folder))
    code, report = cli_json("derive", "--access-copies")
    assert code == 0 and report["failed"] == []
    # 5 thumbs/posters/waves, the PDF's page images, 2 access copies
    assert (report["files"], report["built"]) == (5, 8)
    with catalog.session() as s:
        files = {f.path: f for f in s.scalars(select(File))}
        events = s.scalars(select(Event).where(Event.kind == "derivative creation")).all()
    base = settings.derivatives_dir
    assert derivative_path(base, files["照片/p.jpg"].sha256, "thumbnail").exists()
    assert derivative_path(base, files["录音/talk.wav"].sha256, "waveform").exists()
    mp3 = derivative_path(base, files["录音/talk.wav"].sha256, "access-audio")
    mp4 = derivative_path(base, files["视频/lecture.mkv"].sha256, "access-video")
    with av.open(str(mp3)) as c:
        assert c.streams.audio[0].codec_context.name in ("mp3", "mp3float")
        assert c.duration / 1e6 == pytest.approx(3.0, abs=0.1)
    with av.open(str(mp4)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
    pdf = files["手稿/m.pdf"]
    with Image.open(page_image_path(base, pdf.sha256, 1)) as page:
        assert page.size == (1653, 2339)  # A4 at 200 dpi: the IIIF canvas of page 1
    assert len(events) == 8 and {e.outcome for e in events} == {"success"}
    again = cli_json("derive", "--access-copies")[1]
    assert (again["built"], again["up_to_date"]) == (0, 8)
    forced = cli_json("derive", "--force")[1]
    assert forced["built"] == 6
    shown = json.loads(cli("show", _accession(catalog, "录音/talk.wav"), "--json").stdout)
    wav = next(f for f in shown["files"] if f["path"] == "录音/talk.wav")
    assert set(wav["derivatives"]) == {"waveform", "access-audio"}


def _accession(catalog, path):
    with catalog.session() as s:
        return s.scalars(select(File).where(File.path == path)).one().item.accession


def test_derive_reports_failures_and_goes_on(cli_json, tmp_path):
    folder = tmp_path / "coll"
    make_photo(folder / "good.jpg")
    (folder / "not_really.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(3000))
    cli_json("ingest", str(folder))
    code, report = cli_json("derive")
    assert (code, report["built"]) == (1, 1)
    assert [(f["path"], f["kind"]) for f in report["failed"]] == [("not_really.mp4", "poster")]


def test_memory_blowup_is_one_files_failure(tmp_path, catalog_path):
    """A 4 KB BMP whose header declares 12000x12000 pixels (432 MB to decode) under a 300 MB
    worker cap: the worker fails that file, the parent and the other files carry on."""
    import os
    import struct
    import subprocess
    import sys
    folder = tmp_path / "coll"
    folder.mkdir()
    w = h = 12000
    row = (w * 3 + 3) // 4 * 4
    header = b"BM" + struct.pack("<IHHI", 54 + row * h, 0, 0, 54) + \
        struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, row * h, 2835, 2835, 0, 0)
    (folder / "header_claims_12000x12000.bmp").write_bytes(header + bytes(4096))
    make_photo(folder / "ordinary.jpg")
    env = {**os.environ, "ARCHIVE_WORKER_MEMORY_MB": "300",
           "ARCHIVE_CATALOG": catalog_url(catalog_path), **catalog_env(catalog_path)}
    run = [sys.executable, "-m", "archive"]
    ingest = subprocess.run(run + ["ingest", str(folder), "--json"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert json.loads(ingest.stdout)["new"] == 2
    derived = subprocess.run(run + ["derive", "--json"], env=env, capture_output=True,
                             text=True, timeout=120)
    report = json.loads(derived.stdout)
    assert derived.returncode == 1 and report["built"] == 1
    assert report["failed"] == [{"path": "header_claims_12000x12000.bmp", "kind": "thumbnail",
                                 "reason": "the parser ran out of memory (cap 300 MB)"}]
