"""media/ and the worker's extract_file on real generated files of every kind."""
from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.generators.samples import (
    exif_block, make_audio, make_docx, make_jpeg, make_pdf, make_photo, make_png, make_srt,
    make_tiff, make_video, make_wav, truncate,
)
from ingest.extract import extract_file
from media.audiovideo import probe_av
from media.checksum import sha256_file
from media.documents import pdfium_text, read_pdf
from media.images import read_image
from media.problems import MediaProblem
from media.textcodec import decode_text


def test_jpeg_exif_gps_orientation(tmp_path: Path):
    p = make_jpeg(tmp_path / "scan.jpg", (640, 480),
                  exif_block("Nikon", "F3", "1956:03:01 09:30:00", 6, (39.9042, -116.4074),
                             "实验室合影", "新华社"))
    info = read_image(p)
    assert (info.width, info.height, info.format) == (640, 480, "jpeg")
    assert (info.display_width, info.display_height) == (480, 640)  # orientation 6 rotates
    e = info.exif
    assert (e.make, e.model, e.date_taken, e.orientation) == ("Nikon", "F3",
                                                              "1956:03:01 09:30:00", 6)
    assert e.gps_lat == pytest.approx(39.9042, abs=1e-4)
    assert e.gps_lon == pytest.approx(-116.4074, abs=1e-4)
    assert e.description == "实验室合影" and e.artist == "新华社"
    assert info.damage is None


def test_date_taken_falls_back_to_datetime(tmp_path: Path):
    from PIL import Image
    exif = Image.Exif()
    exif[0x0132] = "1988:08:08 08:08:08"
    p = make_jpeg(tmp_path / "x.jpg", exif=exif)
    assert read_image(p).exif.date_taken == "1988:08:08 08:08:08"


def test_multipage_tiff_and_png(tmp_path: Path):
    t = read_image(make_tiff(tmp_path / "notes.tif", (300, 200), pages=3))
    assert (t.width, t.height, t.frames, t.format) == (300, 200, 3, "tiff")
    p = read_image(make_png(tmp_path / "x.png"))
    assert (p.width, p.format, p.damage) == (200, "png", None)


def test_truncated_jpeg_is_damage_not_crash(tmp_path: Path):
    p = truncate(make_photo(tmp_path / "cut_at_40_percent.jpg"), 0.4)
    info = read_image(p)
    assert info.width == 800 and info.damage and info.damage.startswith("truncated")


def test_jpeg_with_exif_thumbnail_is_not_called_truncated(tmp_path: Path):
    p = make_photo(tmp_path / "ok.jpg", exif=exif_block("Canon", "EOS", "2001:01:01 00:00:00"))
    assert read_image(p).damage is None


def test_not_an_image(tmp_path: Path):
    p = tmp_path / "noise.jpg"
    p.write_bytes(b"\xff\xd8\xff" + bytes(range(256)) * 4)
    with pytest.raises(MediaProblem) as err:
        read_image(p)
    assert err.value.code == "corrupt"


@pytest.mark.parametrize("name, codec, container, seconds", [
    ("a.mp3", "mp3", None, 3.0), ("a.flac", "flac", None, 2.0),
    ("a.m4a", "aac", "mp4", 2.0), ("a.opus", "libopus", "ogg", 2.0),
])
def test_audio_durations_and_codecs(tmp_path: Path, name, codec, container, seconds):
    info = probe_av(make_audio(tmp_path / name, seconds, codec, 48000 if codec == "libopus"
                               else 44100, container=container))
    assert info.kind == "audio"
    assert info.duration == pytest.approx(seconds, rel=0.01, abs=0.05)
    audio = info.first("audio")
    assert audio.channels == 1 and audio.sample_rate in (44100, 48000)


def test_wav(tmp_path: Path):
    info = probe_av(make_wav(tmp_path / "talk.wav", 2.5, 16000, 2))
    audio = info.first("audio")
    assert (info.kind, audio.codec, audio.sample_rate, audio.channels) == \
        ("audio", "pcm_s16le", 16000, 2)
    assert info.duration == pytest.approx(2.5, abs=0.01)


def test_mp3_tags(tmp_path: Path):
    info = probe_av(make_audio(tmp_path / "t.mp3", 1.0, tags={"title": "口述历史",
                                                              "artist": "赵九章"}))
    assert info.tags["title"] == "口述历史" and info.tags["artist"] == "赵九章"


@pytest.mark.parametrize("name, container", [("v.mp4", None), ("v.mkv", "matroska")])
def test_video(tmp_path: Path, name, container):
    info = probe_av(make_video(tmp_path / name, 2.0, (320, 240), fps=10, container=container))
    video = info.first("video")
    assert info.kind == "video"
    assert (video.codec, video.width, video.height, video.frame_rate) == ("h264", 320, 240, 10)
    assert info.first("audio").codec == "aac"
    assert info.duration == pytest.approx(2.0, abs=0.1)


def test_audio_only_mov_is_audio(tmp_path: Path):
    info = probe_av(make_audio(tmp_path / "interview.MOV", 2.0, "aac", container="mov"))
    assert info.kind == "audio"


def test_random_bytes_named_mp3_is_a_problem(tmp_path: Path):
    p = tmp_path / "noise.mp3"
    p.write_bytes(bytes((i * 7919) % 251 for i in range(20000)))
    e = extract_file(str(p))
    assert e.problem and e.kind == "audio"


def test_pdf_chinese_text_and_info(tmp_path: Path):
    p = make_pdf(tmp_path / "m.pdf", ["工程控制论\n导弹 火箭", "第二页 Engineering"],
                 title="工程控制论", author="钱学森")
    info = read_pdf(p)
    assert info.pages == 2
    assert "工程控制论" in info.text and "导弹" in info.text and "Engineering" in info.text
    assert (info.title, info.author) == ("工程控制论", "钱学森")


def test_pdf_text_pages_and_info_exactly(tmp_path: Path):
    """#13.8: PDFium (pypdfium2) reads the text, page by page in order, the page count and the
    document info of a real PDF with Chinese and English pages, as the pages were written."""
    p = make_pdf(tmp_path / "m.pdf", ["工程控制论\n导弹 火箭",
                                      "Engineering Cybernetics, 1954.\nH. S. Tsien"],
                 title="工程控制论", author="钱学森")
    info = read_pdf(p)
    assert (info.format, info.pages, info.title, info.author) == ("pdf", 2, "工程控制论", "钱学森")
    assert info.text == "工程控制论\n导弹 火箭\nEngineering Cybernetics, 1954.\nH. S. Tsien"
    assert info.warnings == ()
    e = extract_file(str(p))
    assert (e.kind, e.pages, e.text, e.problem) == ("pdf", 2, info.text, None)
    assert e.tools[0].startswith("pypdfium2 ")


def test_pdf_cut_before_its_cross_reference_table_is_still_read(tmp_path: Path):
    whole = make_pdf(tmp_path / "whole.pdf", ["钱学森手稿", "second page"]).read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(whole[:whole.rindex(b"xref")])
    info = read_pdf(cut)
    assert (info.pages, info.text) == (2, "钱学森手稿\nsecond page")


def test_pdf_text_is_clipped_at_max_chars(tmp_path: Path):
    p = make_pdf(tmp_path / "m.pdf", ["一二三四五六七八九十", "more text on page two"])
    info = read_pdf(p, max_chars=4)
    assert info.text == "一二三四" and info.pages == 2
    assert info.warnings == ("text clipped at 4 characters",)


@pytest.mark.parametrize("raw, text", [
    ("Heres to\r\nthe crazy", "Heres to\nthe crazy"), ("multi\ufffe\r\ncolumn", "multi-\ncolumn"),
    ("官報 \x01\x03", "官報 "), ("tab\tkept", "tab\tkept"),
])
def test_pdfium_text(raw, text):
    assert pdfium_text(raw) == text


def test_damaged_pdf(tmp_path: Path):
    p = tmp_path / "broken.pdf"
    p.write_bytes(b"%PDF-1.4\n%%EOF\n")
    e = extract_file(str(p))
    assert e.kind == "pdf" and e.problem and e.problem_stage == "extract"


def test_docx(tmp_path: Path):
    e = extract_file(str(make_docx(tmp_path / "bio.docx", ["王淦昌传略", "1907年生"],
                                   title="传略", author="研究小组")))
    assert e.kind == "docx" and "王淦昌传略" in e.text
    assert e.tech["title"] == "传略" and e.tech["author"] == "研究小组"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gb18030", "big5"])
def test_text_encodings(tmp_path: Path, encoding):
    text = "钱学森先生：来信收到，关于火箭与导弹的研究计划，我们已经讨论过了。此致敬礼。" * 3
    if encoding == "big5":
        text = "錢學森先生：來信收到，關於火箭與導彈的研究計劃，我們已經討論過了。此致敬禮。" * 3
    p = tmp_path / f"{encoding}.txt"
    p.write_bytes(text.encode(encoding))
    e = extract_file(str(p))
    assert e.problem is None and e.text == text


def test_decode_text_latin1():
    text = ("Le professeur Crémieux était à Paris en été 1950 ; il a écrit à ses collègues de "
            "l'Académie des sciences une lettre très détaillée sur la mécanique des fluides. ")
    assert decode_text(text.encode("latin-1")).text == text


def test_srt_sidecar_cues(tmp_path: Path):
    p = make_srt(tmp_path / "talk.srt", [(0, 2.5, "我们开始"), (2.5, 5, "谈谈导弹")])
    e = extract_file(str(p))
    assert e.kind == "transcript" and e.cues == [[0.0, 2.5, "我们开始"], [2.5, 5.0, "谈谈导弹"]]
    assert e.text == "我们开始\n谈谈导弹"


def test_empty_file(tmp_path: Path):
    p = tmp_path / "zero_bytes.wav"
    p.write_bytes(b"")
    e = extract_file(str(p))
    assert e.kind == "empty" and e.problem.startswith("empty")


def test_pdf_named_jpg_is_a_pdf(tmp_path: Path):
    p = make_pdf(tmp_path / "x.pdf", ["hello"])
    renamed = p.rename(tmp_path / "scan.jpg")
    e = extract_file(str(renamed))
    assert e.kind == "pdf" and e.mime == "application/pdf" and e.pages == 1


def test_sha256_streamed(tmp_path: Path):
    import hashlib
    p = tmp_path / "big.bin"
    data = bytes(range(256)) * 20000  # several chunks
    p.write_bytes(data)
    assert sha256_file(p) == (hashlib.sha256(data).hexdigest(), len(data))


def test_rotated_phone_clip(tmp_path: Path):
    src = make_video(tmp_path / "phone.mp4", 1.0, (320, 240))
    import av
    # Mark the track as turned 90 degrees, as phones do, through PyAV's own muxer.
    out = tmp_path / "rotated.mp4"
    with av.open(str(src)) as inp, av.open(str(out), "w") as dst:
        s_in = inp.streams.video[0]
        s_out = dst.add_stream_from_template(s_in)
        s_out.set_display_rotation(-90)  # FFmpeg counts counter-clockwise
        for packet in inp.demux(s_in):
            if packet.dts is not None:
                packet.stream = s_out
                dst.mux(packet)
    e = extract_file(str(out))
    assert (e.width, e.height) == (320, 240)
    assert (e.tech["rotation"], e.tech["display_width"], e.tech["display_height"]) == \
        (90, 240, 320)


def test_format_mismatch_is_recorded(tmp_path: Path):
    wav = make_wav(tmp_path / "x.wav", 1.0)
    named_mp3 = wav.rename(tmp_path / "interview.mp3")
    e = extract_file(str(named_mp3))
    assert e.kind == "audio" and e.problem is None
    assert e.tech["format_mismatch"] == "named .mp3 but the content is audio/wav (wav)"
    assert "format_mismatch" not in extract_file(str(make_wav(tmp_path / "ok.wav", 1.0))).tech


def _id3_frame(frame_id: bytes, payload: bytes) -> bytes:
    return frame_id + len(payload).to_bytes(4, "big") + b"\x00\x00" + payload


def test_id3_gbk_mislabelled_as_latin1_is_repaired(tmp_path: Path):
    from media.id3 import read_id3_tags
    frames = (_id3_frame(b"TIT2", b"\x00" + "角落之歌".encode("gbk"))
              + _id3_frame(b"TPE1", b"\x01" + "苏云".encode("utf-16"))
              + _id3_frame(b"COMM", b"\x03eng\x00" + "口述".encode()))
    size = len(frames)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    p = tmp_path / "cut_after_tag.mp3"
    p.write_bytes(b"ID3\x03\x00\x00" + syncsafe + frames + b"\xff\xfb" + bytes(50))
    assert read_id3_tags(p) == {"title": "角落之歌", "artist": "苏云", "comment": "口述"}
    e = extract_file(str(p))
    assert e.problem and e.tech["tags"]["title"] == "角落之歌"


def test_repair_leaves_real_latin1_alone():
    from media.textcodec import repair_mislabelled_latin1 as repair
    assert repair("½ÇÂäÖ®¸è") == "角落之歌"
    for text in ("Crémieux", "Beyoncé", "Schrödinger", "plain"):
        assert repair(text) == text


def test_truncated_jpeg2000_and_bmp(tmp_path: Path):
    from PIL import Image
    im = Image.new("RGB", (64, 48), "#406080")
    im.save(tmp_path / "ok.jp2")
    im.save(tmp_path / "ok.bmp")
    assert read_image(tmp_path / "ok.jp2").damage is None
    assert read_image(tmp_path / "ok.bmp").damage is None
    data = (tmp_path / "ok.jp2").read_bytes()
    (tmp_path / "missing_last_byte.jp2").write_bytes(data[:-1])
    assert read_image(tmp_path / "missing_last_byte.jp2").damage.startswith("truncated")
    (tmp_path / "short.bmp").write_bytes((tmp_path / "ok.bmp").read_bytes()[:3000])
    assert read_image(tmp_path / "short.bmp").damage.startswith("truncated")


def test_truncated_audio_whose_header_claims_full_length(tmp_path: Path):
    src = make_audio(tmp_path / "long.m4a", 30.0, "aac", container="mp4")
    # With its index in front (faststart), a file cut in copying still opens and still claims
    # its full length; re-mux so, then cut it.
    import av
    fast = tmp_path / "fast.m4a"
    with av.open(str(src)) as inp, av.open(str(fast), "w", format="mp4",
                                           options={"movflags": "faststart"}) as out:
        s = out.add_stream_from_template(inp.streams.audio[0])
        for packet in inp.demux(inp.streams.audio[0]):
            if packet.dts is not None:
                packet.stream = s
                out.mux(packet)
    cut = tmp_path / "cut_in_copying.m4a"
    cut.write_bytes(fast.read_bytes()[: len(fast.read_bytes()) // 3])
    e = extract_file(str(cut))
    assert e.problem and e.problem.startswith("truncated: the headers claim 30.0 s")
    # It plays for the third that is there; the headers' claim is kept as technical metadata.
    assert e.duration is not None and 5.0 < e.duration < 15.0
    assert e.tech["claimed_duration"] == pytest.approx(30.0, abs=0.1)
    assert e.tech["duration_source"] == "data"
    assert extract_file(str(fast)).problem is None
