"""Mixed file collections of any size, deterministic: JPEG scans with EXIF, TIFFs, Chinese
transcriptions, PDFs, WAV/MP3/M4A interviews with SRT transcripts, MP4/MKV videos, nested by
scientist and material type. Each kind is encoded once from a template, then every file gets
distinct bytes (a unique tail that every parser tolerates), so ingest hashes and parses each
one for real without the generator spending minutes in encoders.

    python -m benchmarks.generators.collection OUT_FOLDER 20000
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

from benchmarks.generators.samples import (
    exif_block, make_audio, make_jpeg, make_pdf, make_photo, make_srt, make_tiff, make_video,
    make_wav,
)
from benchmarks.generators.records import SCIENTISTS, text_of

# (folder, extension, weight): roughly the programme's mix of physical and digital materials
KINDS = (
    ("信件", "jpg", 30), ("手稿", "tif", 6), ("手稿", "pdf", 8), ("照片", "jpg-photo", 20),
    ("信件", "txt", 14), ("录音", "wav", 4), ("录音", "mp3", 6), ("录音", "m4a", 3),
    ("视频", "mp4", 3), ("视频", "mkv", 2), ("录音", "srt", 4),
)


def _templates(work: Path) -> dict[str, bytes]:
    rng = random.Random(3)
    t: dict[str, bytes] = {}
    t["jpg"] = make_jpeg(work / "a.jpg", (800, 1100), exif_block(
        "Epson", "Perfection V850", "2019:06:03 10:12:00")).read_bytes()
    t["jpg-photo"] = make_photo(work / "p.jpg", (1024, 768), exif_block(
        "Leica", "M3", "1956:10:08 14:20:00", 1, (39.9042, 116.4074))).read_bytes()
    t["tif"] = make_tiff(work / "t.tif", (600, 800), pages=2).read_bytes()
    t["pdf"] = make_pdf(work / "m.pdf", [text_of(rng, 400), text_of(rng, 400)]).read_bytes()
    t["wav"] = make_wav(work / "w.wav", 4.0, 16000).read_bytes()
    t["mp3"] = make_audio(work / "a.mp3", 6.0, "mp3", 22050).read_bytes()
    t["m4a"] = make_audio(work / "a.m4a", 5.0, "aac", 22050, container="mp4").read_bytes()
    t["mp4"] = make_video(work / "v.mp4", 2.0, (320, 240)).read_bytes()
    t["mkv"] = make_video(work / "v.mkv", 2.0, (320, 240), container="matroska").read_bytes()
    t["srt"] = make_srt(work / "s.srt", [(i * 5.0, i * 5.0 + 5, text_of(rng, 40))
                                         for i in range(12)]).read_bytes()
    return t


TEXT_ONLY = (("信件", "txt", 1),)  # the first figure: small text files only


def generate_collection(out: Path, n: int, seed: int = 5,
                        kinds: tuple[tuple[str, str, int], ...] = KINDS) -> Path:
    """Write n files under out/<scientist>/<type>/, of `kinds` (folder, extension, weight);
    returns out."""
    import tempfile
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        templates = _templates(Path(work))
    rng = random.Random(seed)
    weights = [w for _, _, w in kinds]
    names = [name for name, _ in SCIENTISTS]
    for i in range(n):
        folder, kind, _ = rng.choices(kinds, weights)[0]
        scientist = names[i % len(names)]
        ext = kind.split("-")[0]
        path = out / scientist / folder / f"box{i // 500:03d}" / f"item_{i:06d}.{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if ext == "txt":
            path.write_text(text_of(rng, rng.randint(300, 2000)), encoding="utf-8")
        else:
            # A unique tail: JPEG, PDF, MP3/MP4/MKV and TIFF readers ignore bytes after the
            # data they index; for WAV, replace the last samples instead of appending.
            data = templates[kind]
            if ext == "srt":
                path.write_bytes(data + f"\n\n{i}\n".encode())  # a number line, no cue
            elif ext == "wav":
                path.write_bytes(data[:-8] + i.to_bytes(8, "big"))
            else:
                path.write_bytes(data + i.to_bytes(8, "big"))
    return out


if __name__ == "__main__":
    folder, count = Path(sys.argv[1]), int(sys.argv[2])
    generate_collection(folder, count)
    print(f"{count} files in {folder}")
