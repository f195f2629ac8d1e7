"""Media probing per file: PyAV in process against ffprobe through ffmpeg-python (a process
per file), over generated WAV, MP3, M4A, MP4 and MKV files; durations must agree."""
from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.generators.samples import make_audio, make_video, make_wav
from media.audiovideo import probe_av


def media_files(folder: Path, per_kind: int) -> list[Path]:
    out = []
    for i in range(per_kind):
        seconds = 2.0 + i % 5
        out.append(make_wav(folder / f"w{i}.wav", seconds))
        out.append(make_audio(folder / f"a{i}.mp3", seconds, "mp3", 22050))
        out.append(make_audio(folder / f"a{i}.m4a", seconds, "aac", 22050, container="mp4"))
        out.append(make_video(folder / f"v{i}.mp4", 1.0 + i % 3, (160, 120)))
        out.append(make_video(folder / f"v{i}.mkv", 1.0 + i % 3, (160, 120),
                              container="matroska"))
    return out


def _ffprobe_duration(path: Path) -> float:
    import ffmpeg
    info = ffmpeg.probe(str(path))
    return float(info["format"]["duration"])


def _bundled_ffmpeg_duration(path: Path) -> float:
    """Without ffprobe: the bundled ffmpeg binary reading the header, as ffmpeg-python would
    spawn it. The same cost class: a process per file."""
    import re
    import subprocess

    import imageio_ffmpeg
    out = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                         capture_output=True, text=True).stderr
    h, m, s = re.search(r"Duration: (\d+):(\d+):([\d.]+)", out).groups()  # type: ignore[union-attr]
    return int(h) * 3600 + int(m) * 60 + float(s)


def run(per_kind: int = 10, repeats: int = 3) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="probe-bench-"))
    files = media_files(folder, per_kind)
    baseline = _ffprobe_duration if shutil.which("ffprobe") else _bundled_ffmpeg_duration
    label = "ffprobe via ffmpeg-python" if shutil.which("ffprobe") else \
        "bundled ffmpeg -i (no ffprobe on this machine)"
    pyav_ms, base_ms, worst = [], [], 0.0
    for _ in range(repeats):
        for f in files:
            t = time.perf_counter()
            ours = probe_av(f).claimed_duration  # what ffprobe reports too: the headers
            pyav_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            theirs = baseline(f)
            base_ms.append((time.perf_counter() - t) * 1000)
            worst = max(worst, abs(ours - theirs))
    shutil.rmtree(folder, ignore_errors=True)
    pyav, base = statistics.median(pyav_ms), statistics.median(base_ms)
    return {"files": len(files), "baseline": label, "pyav_ms": round(pyav, 2),
            "baseline_ms": round(base, 1), "speedup": round(base / pyav, 1),
            "max_duration_difference_s": round(worst, 3)}
