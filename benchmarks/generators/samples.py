"""Real sample files and a realistic sample collection, for the demo, the tests and benchmarks.

Every maker writes a genuine file of its format (JPEG/TIFF with EXIF through Pillow, WAV through
the standard library, MP3/FLAC/M4A/MP4/MKV through PyAV's encoders, PDFs with real Chinese text
through a small PDF writer), so ingest is exercised on the bytes it will meet.

    python -m benchmarks.generators.samples OUT_FOLDER   # the demo collection, into OUT_FOLDER
"""
from __future__ import annotations

import csv
import io
import math
import struct
import sys
import wave
import zlib
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

# -- images -------------------------------------------------------------------------------------


def _rational(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes_full = (value - degrees) * 60
    minutes = int(minutes_full)
    return (float(degrees), float(minutes), round((minutes_full - minutes) * 60, 4))


def exif_block(make: str | None = None, model: str | None = None, taken: str | None = None,
               orientation: int | None = None, gps: tuple[float, float] | None = None,
               description: str | None = None, artist: str | None = None) -> Image.Exif:
    """An EXIF block; `taken` in EXIF form '1956:03:01 09:30:00'."""
    exif = Image.Exif()
    for tag, value in ((0x010F, make), (0x0110, model), (0x0132, taken), (0x0112, orientation),
                       (0x010E, description), (0x013B, artist)):
        if isinstance(value, str) and not value.isascii():
            exif[tag] = value.encode("utf-8")  # as Chinese cameras and scanning software write it
        elif value is not None:
            exif[tag] = value
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
    if gps:
        lat, lon = gps
        g = exif.get_ifd(0x8825)
        g[1], g[2] = ("N" if lat >= 0 else "S"), _rational(abs(lat))
        g[3], g[4] = ("E" if lon >= 0 else "W"), _rational(abs(lon))
    return exif


# Fonts that draw Chinese: the one the test extra installs (a wheel holding WenQuanYi Micro
# Hei), then the usual system places.
_CJK_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
              "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
              "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")


def cjk_font(size: int) -> ImageFont.FreeTypeFont | None:
    """A font that draws Chinese at `size` pixels, or None when the machine has none."""
    import importlib.util
    candidates = list(_CJK_FONTS)
    wheel = importlib.util.find_spec("paperang_p2_fonts_cjk")
    if wheel is not None and wheel.origin:
        candidates.insert(0, str(Path(wheel.origin).parent / "fonts" / "wqy-microhei.ttc"))
    for candidate in candidates:
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, size)
    return None


def page_image(size: tuple[int, int], lines: Sequence[str], paper: str = "#f3ecd9") -> Image.Image:
    """A scan-like page: paper colour with ruled lines. Lines with Chinese are printed in a CJK
    font at body-text size (what the OCR reads); ASCII lines in Pillow's small default font."""
    im = Image.new("RGB", size, paper)
    draw = ImageDraw.Draw(im)
    y = 24
    font = cjk_font(max(16, size[0] // 30)) if any(not line.isascii() for line in lines) else None
    for line in lines:
        if font is not None:
            draw.text((size[0] // 12, y + 20), line, fill="#20203a", font=font)
            y += int(font.size * 1.8)
        else:
            draw.text((24, y), line, fill="#2b2b5a")
            y += 18
    for ly in range(y + 10, size[1] - 20, 18):
        draw.line((24, ly, size[0] - 24 - (ly * 7) % 60, ly), fill="#555577", width=1)
    return im


def make_jpeg(path: Path, size: tuple[int, int] = (640, 480), exif: Image.Exif | None = None,
              lines: Sequence[str] = (), quality: int = 85) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    im = page_image(size, lines or [path.stem])
    im.save(path, "JPEG", quality=quality, exif=exif if exif is not None else Image.Exif())
    return path


def make_photo(path: Path, size: tuple[int, int] = (800, 600),
               exif: Image.Exif | None = None) -> Path:
    """A photograph-like JPEG: gradients and shapes rather than a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    im = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(im)
    for i in range(6):
        x = (i * 137) % max(1, w - 80)
        draw.ellipse((x, h // 3, x + 80, h // 3 + 80), fill=(60 + i * 30, 90, 160 - i * 15))
    im.save(path, "JPEG", quality=85, exif=exif if exif is not None else Image.Exif())
    return path


def make_tiff(path: Path, size: tuple[int, int] = (400, 300), pages: int = 1,
              exif: Image.Exif | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = [page_image(size, [f"page {i + 1}"]) for i in range(pages)]
    frames[0].save(path, "TIFF", save_all=pages > 1, append_images=frames[1:],
                   compression="tiff_lzw", exif=exif if exif is not None else Image.Exif())
    return path


def make_png(path: Path, size: tuple[int, int] = (200, 150)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    page_image(size, ["png"]).save(path, "PNG")
    return path


# -- sound and video ----------------------------------------------------------------------------


def _tone_samples(seconds: float, rate: int, channels: int) -> bytes:
    """A 'voice-like' signal: tones that rise and fall in syllable-sized bursts, 16-bit PCM."""
    n = int(seconds * rate)
    out = bytearray()
    for i in range(n):
        t = i / rate
        envelope = 0.5 + 0.5 * math.sin(2 * math.pi * 3.1 * t)
        value = envelope * (0.5 * math.sin(2 * math.pi * 220 * t)
                            + 0.25 * math.sin(2 * math.pi * 330 * t))
        sample = struct.pack("<h", int(value * 12000))
        out += sample * channels
    return bytes(out)


def make_wav(path: Path, seconds: float = 3.0, rate: int = 16000, channels: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(_tone_samples(seconds, rate, channels))
    return path


def make_audio(path: Path, seconds: float = 3.0, codec: str = "mp3", rate: int = 44100,
               container: str | None = None, tags: dict[str, str] | None = None) -> Path:
    """Encode a real audio file with PyAV: codec mp3, flac, aac, alac, libopus, ..."""
    import av
    from av.audio.stream import AudioStream
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = _tone_samples(seconds, rate, 1)
    with av.open(str(path), "w", format=container) as out:
        if tags:
            out.metadata.update(tags)
        stream = out.add_stream(codec, rate=rate, layout="mono")
        assert isinstance(stream, AudioStream), f"{codec} is not an audio codec"
        frame_samples = 1152
        bytes_per_frame = frame_samples * 2
        pts = 0
        for start in range(0, len(pcm), bytes_per_frame):
            chunk = pcm[start:start + bytes_per_frame]
            frame = av.AudioFrame(format="s16", layout="mono", samples=len(chunk) // 2)
            frame.planes[0].update(chunk)
            frame.sample_rate = rate
            frame.pts = pts
            frame.time_base = Fraction(1, rate)
            pts += len(chunk) // 2
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def make_video(path: Path, seconds: float = 2.0, size: tuple[int, int] = (320, 240),
               fps: int = 10, codec: str = "libx264", audio: bool = True,
               container: str | None = None) -> Path:
    """Encode a real video with PyAV (H.264 by default) and, optionally, an AAC track."""
    import av
    from av.video.stream import VideoStream
    path.parent.mkdir(parents=True, exist_ok=True)
    rate = 22050
    with av.open(str(path), "w", format=container) as out:
        vs = out.add_stream(codec, rate=fps)
        assert isinstance(vs, VideoStream), f"{codec} is not a video codec"
        vs.width, vs.height = size
        vs.pix_fmt = "yuv420p"
        as_ = out.add_stream("aac", rate=rate, layout="mono") if audio else None
        frames = int(seconds * fps)
        for i in range(frames):
            im = page_image(size, [f"frame {i}"], paper=f"#{(i * 9) % 256:02x}7090")
            frame = av.VideoFrame.from_image(im)
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode(None):
            out.mux(packet)
        if as_ is not None:
            pcm = _tone_samples(seconds, rate, 1)
            step = 1024 * 2
            for n, start in enumerate(range(0, len(pcm), step)):
                chunk = pcm[start:start + step]
                frame = av.AudioFrame(format="s16", layout="mono", samples=len(chunk) // 2)
                frame.planes[0].update(chunk)
                frame.sample_rate = rate
                frame.pts = n * 1024
                frame.time_base = Fraction(1, rate)
                for packet in as_.encode(frame):
                    out.mux(packet)
            for packet in as_.encode(None):
                out.mux(packet)
    return path


def make_srt(path: Path, cues: Sequence[tuple[float, float, str]], vtt: bool = False) -> Path:
    def stamp(t: float) -> str:
        h, rem = divmod(t, 3600)
        m, s = divmod(rem, 60)
        sep = "." if vtt else ","
        return f"{int(h):02d}:{int(m):02d}:{int(s):02d}{sep}{int(round((s % 1) * 1000)):03d}"
    lines = ["WEBVTT", ""] if vtt else []
    for i, (start, end, text) in enumerate(cues, start=1):
        if not vtt:
            lines.append(str(i))
        lines += [f"{stamp(start)} --> {stamp(end)}", text, ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


# -- documents ----------------------------------------------------------------------------------


def _pdf_text(text: str) -> str:
    return "<" + text.encode("utf-16-be").hex().upper() + ">"


def make_pdf(path: Path, pages: Sequence[str], title: str | None = None,
             author: str | None = None) -> Path:
    """A real PDF whose text (Chinese included) extracts correctly: a Type0 font with the
    standard Adobe-GB1 STSong-Light (not embedded), UCS-2 codes, and a ToUnicode map."""
    chars = sorted({c for page in pages for c in page if c != "\n"})
    bfchars = [f"<{ord(c):04X}> <{ord(c):04X}>" for c in chars if ord(c) < 0x10000]
    blocks = []
    for i in range(0, len(bfchars), 100):
        part = bfchars[i:i + 100]
        blocks.append(f"{len(part)} beginbfchar\n" + "\n".join(part) + "\nendbfchar")
    cmap = ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            + "\n".join(blocks) + "\nendcmap\nCMapName currentdict /CMap defineresource pop\n"
            "end\nend\n")
    objects: list[bytes] = []

    def add(body: str | bytes) -> int:
        objects.append(body.encode("latin-1") if isinstance(body, str) else body)
        return len(objects)

    catalog_id = add("")  # filled in below
    pages_id = add("")
    font_id = add("")
    descendant_id = add("<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
                        "/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
                        "/FontDescriptor 0 0 R >>")
    cmap_bytes = zlib.compress(cmap.encode("ascii"))
    tounicode_id = add(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(cmap_bytes)
                       + cmap_bytes + b"\nendstream")
    objects[descendant_id - 1] = objects[descendant_id - 1].replace(
        b" /FontDescriptor 0 0 R", b"")
    objects[font_id - 1] = (f"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light "
                            f"/Encoding /UniGB-UCS2-H /DescendantFonts [{descendant_id} 0 R] "
                            f"/ToUnicode {tounicode_id} 0 R >>").encode("latin-1")
    page_ids = []
    for text in pages:
        ops = ["BT", "/F1 14 Tf", "18 TL", "60 780 Td"]
        for line in text.split("\n"):
            ops.append(f"{_pdf_text(line)} Tj T*")
        ops.append("ET")
        content = zlib.compress("\n".join(ops).encode("latin-1"))
        content_id = add(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
                         + content + b"\nendstream")
        page_ids.append(add(f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 595 842] "
                            f"/Resources << /Font << /F1 {font_id} 0 R >> >> "
                            f"/Contents {content_id} 0 R >>"))
    objects[pages_id - 1] = (f"<< /Type /Pages /Count {len(page_ids)} /Kids ["
                             + " ".join(f"{p} 0 R" for p in page_ids) + "] >>").encode()
    objects[catalog_id - 1] = f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode()
    info = ["/Producer (benchmarks.generators.samples)"]
    if title:
        info.append(f"/Title {_pdf_text(chr(0xFEFF) + title)}")
    if author:
        info.append(f"/Author {_pdf_text(chr(0xFEFF) + author)}")
    info_id = add("<< " + " ".join(info) + " >>")

    buf = io.BytesIO()
    buf.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(buf.tell())
        buf.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = buf.tell()
    buf.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        buf.write(f"{off:010d} 00000 n \n".encode())
    buf.write(f"trailer\n<< /Size {len(objects) + 1} /Root {catalog_id} 0 R "
              f"/Info {info_id} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return path


def make_docx(path: Path, paragraphs: Sequence[str], title: str | None = None,
              author: str | None = None) -> Path:
    import docx
    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    if title:
        document.core_properties.title = title
    if author:
        document.core_properties.author = author
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def truncate(path: Path, keep: float = 0.5) -> Path:
    """Cut a file short, as an interrupted copy or a failing disk would."""
    data = path.read_bytes()
    path.write_bytes(data[: max(1, int(len(data) * keep))])
    return path


# -- the demo collection ------------------------------------------------------------------------

DEMO_SCIENTISTS = [
    {"name": "钱学森", "variants": "Qian Xuesen;Tsien Hsue-shen;錢學森;H. S. Tsien",
     "born": "1911", "died": "2009", "field": "力学 / aerospace engineering"},
    {"name": "赵九章", "variants": "Zhao Jiuzhang;Chao Jiu-zhang;趙九章",
     "born": "1907", "died": "1968", "field": "气象学 / geophysics"},
    {"name": "王淦昌", "variants": "Wang Ganchang;Kan-Chang Wang",
     "born": "1907", "died": "1998", "field": "核物理 / nuclear physics"},
]

_LETTER = ("陈赓同志：\n来信收到。关于导弹研究的规划，我已与同事们详细讨论，"
           "认为应当先建立力学研究所，培养青年科技人员。\n此致\n敬礼\n钱学森")


SCANNED_PAGE = ("又及：", "超音速风洞的设计图纸已经完成，", "请转交力学研究所审阅。",
                "所需经费另行报告。")


def build_demo_collection(base: Path) -> Path:
    """Write the demo: `base/scientists.csv` and the collection in `base/collection`: three
    scientists (Chinese and pinyin folder names), letters with page scans and transcriptions,
    a manuscript PDF, photographs, interviews with SRT transcripts, a video, a manifest
    (`manifest.csv` at its top), system junk and one corrupt scan. Returns the collection."""
    out = base / "collection"
    qian, zhao, wang = out / "钱学森", out / "zhao_jiuzhang", out / "Wang Ganchang"
    beijing, shanghai = (39.9042, 116.4074), (31.2304, 121.4737)

    # Letters: two page scans and a UTF-8 transcription make one item.
    make_jpeg(qian / "信件" / "致陈赓_1956_02_17.jpg", (900, 1200),
              exif_block("Epson", "Perfection V850", "2019:06:03 10:12:00",
                         description="Letter scan, page 1", artist="Archive scanning team"),
              ["Letter to Chen Geng, page 1", "17 February 1956"])
    # Page 2 is printed Chinese that only its scan holds: the OCR makes the letter findable
    # by words the transcription does not have (风洞, 超音速).
    make_jpeg(qian / "信件" / "致陈赓_1956_02_17_p2.jpg", (900, 1200),
              exif_block("Epson", "Perfection V850", "2019:06:03 10:13:00"), SCANNED_PAGE)
    (qian / "信件" / "致陈赓_1956_02_17.txt").write_text(_LETTER, encoding="utf-8")
    make_jpeg(qian / "信件" / "letter_to_von_Karman_1949_11.jpg", (900, 1200),
              exif_block("Epson", "Perfection V850", "2019:06:04 09:00:00"),
              ["Dear Professor von Karman,", "Pasadena, November 1949"])
    # A manuscript: a PDF with Chinese text, and a TIFF scan of a notebook page.
    make_pdf(qian / "手稿" / "工程控制论_手稿_1954.pdf",
             ["工程控制论\n第一章 引论\n导弹与火箭的自动控制问题",
              "第二章 线性系统\nEngineering Cybernetics, chapter 2\n钱学森 1954"],
             title="工程控制论（手稿）", author="钱学森")
    make_tiff(qian / "手稿" / "笔记_1955.tif", (600, 800), pages=2)
    # Photographs with camera EXIF and GPS; one copied into another folder by mistake.
    make_photo(qian / "照片" / "力学所_1956.jpg", (1024, 768),
               exif_block("Leica", "M3", "1956:10:08 14:20:00", 1, beijing,
                          "中国科学院力学研究所成立", "新华社"))
    make_photo(qian / "照片" / "归国_1955_10_08.jpg", (1024, 683),
               exif_block("Zeiss Ikon", "Contax II", "1955:10:08 11:00:00", 1, shanghai))
    # An oral-history interview: WAV master with an SRT transcript.
    make_wav(qian / "录音" / "访谈_1990_第一部分.wav", 20.0, rate=16000)
    make_srt(qian / "录音" / "访谈_1990_第一部分.srt",
             [(0.0, 6.0, "我们今天谈谈五十年代的导弹研究。"),
              (6.0, 13.0, "回国以后，首先是建立力学研究所。"),
              (13.0, 20.0, "Engineering cybernetics was written in Pasadena.")])

    # A scientist whose folder name is pinyin.
    make_jpeg(zhao / "letters" / "letter_to_Qian_1958_05.jpg", (900, 1200),
              exif_block("Canon", "CanoScan 9000F", "2020:01:15 16:00:00"),
              ["To Qian Xuesen, May 1958", "on artificial satellites"])
    (zhao / "letters" / "letter_to_Qian_1958_05.txt").write_text(
        "学森同志：关于人造卫星的设想，请提意见。赵九章 1958年5月", encoding="utf-8")
    make_audio(zhao / "audio" / "oral_history_1986.mp3", 30.0, "mp3", 22050,
               tags={"title": "赵九章口述历史", "artist": "赵九章", "date": "1986"})
    make_srt(zhao / "audio" / "oral_history_1986.srt",
             [(0.0, 10.0, "人造卫星的研制从五八年开始。"),
              (10.0, 30.0, "我们先做探空火箭，测量高空大气。")])
    make_video(zhao / "video" / "lecture_1964.mp4", 5.0, (320, 240), fps=10)
    make_photo(zhao / "photos" / "weather_station_1957.jpg", (800, 600),
               exif_block("Nikon", "F", "1957:07:01 08:00:00", 6, beijing))
    # The corrupt file: a scan cut short in copying.
    truncate(make_jpeg(zhao / "photos" / "damaged_scan_truncated.jpg", (800, 600)), 0.4)

    # A third scientist, folder in pinyin with a space; a DOCX biography and a photo.
    make_docx(wang / "documents" / "biography_draft.docx",
              ["王淦昌传略（初稿）", "1907年生于江苏常熟。", "中微子探测与核武器研究。"],
              title="王淦昌传略", author="王淦昌研究小组")
    make_photo(wang / "photos" / "dubna_1959.jpg", (800, 600),
               exif_block("Zenit", "3M", "1959:09:12 12:00:00", 1, (56.7417, 37.1736)))
    (wang / "photos" / "dubna_1959_copy.jpg").write_bytes(
        (wang / "photos" / "dubna_1959.jpg").read_bytes())

    # What real folders also hold: system junk the ingest must pass over.
    (qian / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (zhao / "photos" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0junk")
    (qian / "照片" / "._力学所_1956.jpg").write_bytes(b"\x00\x05\x16\x07AppleDouble")

    with open(base / "scientists.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["name", "variants", "born", "died", "field"])
        writer.writeheader()
        writer.writerows(DEMO_SCIENTISTS)
    manifest = [
        {"path": "钱学森/信件/致陈赓_1956_02_17.jpg", "scientist": "钱学森", "type": "letter",
         "title": "钱学森致陈赓信（关于建立力学研究所）", "date": "1956-02-17",
         "description": "两页手写信件，附录入稿。", "access": "open", "rights": "© 钱学森家属",
         "location": "Box 3, Folder 12", "language": "zh"},
        {"path": "钱学森/手稿/工程控制论_手稿_1954.pdf", "scientist": "钱学森",
         "type": "manuscript", "title": "《工程控制论》手稿", "date": "1954",
         "description": "Engineering Cybernetics, draft chapters.", "access": "restricted",
         "rights": "", "location": "Box 7", "language": "zh;en"},
        {"path": "zhao_jiuzhang/audio/oral_history_1986.mp3", "scientist": "赵九章",
         "type": "audio", "title": "赵九章口述历史访谈", "date": "约1986",
         "description": "", "access": "open", "rights": "", "location": "", "language": "zh"},
    ]
    with open(out / "manifest.csv", "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(manifest[0]))
        writer.writeheader()
        writer.writerows(manifest)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m benchmarks.generators.samples OUT_FOLDER  (writes "
              "OUT_FOLDER/collection and OUT_FOLDER/scientists.csv)", file=sys.stderr)
        return 2
    out = Path(args[0])
    if out.exists() and any(out.iterdir()):
        print(f"{out} is not empty; give a new folder", file=sys.stderr)
        return 2
    collection = build_demo_collection(out)
    files = sum(1 for p in collection.rglob("*") if p.is_file())
    print(f"Sample collection written to {collection} ({files} files); scientists in "
          f"{out / 'scientists.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
