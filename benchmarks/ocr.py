"""OCR quality and speed: character accuracy (1 − character error rate) per kind of image against
the known lines of shared/corpus/ocr/SOURCES.csv, and pages per second on 2 worker processes,
on the corpus and on a synthetic A4 page at 300 dpi.

    python -m benchmarks.ocr            # prints the figures as JSON

Most of the corpus's lists of known lines are partial, so accuracy is measured the way its
README asks: each known line is looked for in what was read (after NFKC, without whitespace,
Latin case-folded), as the best-matching stretch of the output, and its edit distance counted.
Text read beyond the known lines is not an error. The no-text images count every character
read as an error against zero expected (reported as a count).
"""
from __future__ import annotations

import csv
import json
import os
import resource
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "ocr"
A4_300DPI = (2480, 3508)
TURNS = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
         270: Image.Transpose.ROTATE_90}  # clockwise degrees -> Pillow's transpose


def normalise(text: str) -> str:
    """As the corpus README says to compare.

    normalise("Hello World！ 你好") -> "helloworld!你好"
    """
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def substring_distance(pattern: str, text: str) -> int:
    """The fewest edits turning `pattern` into some stretch of `text` (Sellers' algorithm):
    how far a known line is from the best place it could have been read.

    substring_distance("导弹", "研究导弹所")  -> 0
    substring_distance("导弹研究", "导弹研所") -> 1
    substring_distance("abc", "")            -> 3
    """
    previous = list(range(len(pattern) + 1))  # column for an empty stretch of text
    best = previous[-1]
    for ch in text:
        current = [0]  # a stretch may start anywhere: no cost before it
        for i, p in enumerate(pattern, start=1):
            current.append(min(previous[i] + 1, current[i - 1] + 1,
                               previous[i - 1] + (p != ch)))
        best = min(best, current[-1])
        previous = current
    return best


@dataclass
class Tally:
    expected: int = 0
    errors: int = 0
    images: int = 0

    @property
    def accuracy(self) -> float | None:
        return round(1 - self.errors / self.expected, 4) if self.expected else None


def rows() -> list[dict[str, str]]:
    with open(CORPUS / "SOURCES.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def score_image(read_text: str, expected_lines: list[str]) -> tuple[int, int]:
    """(expected characters, errors) of one image's reading against its known lines."""
    text = normalise(read_text)
    expected = errors = 0
    for line in expected_lines:
        want = normalise(line)
        expected += len(want)
        errors += substring_distance(want, text)
    return expected, errors


def accuracy() -> dict[str, Any]:
    """Per kind: characters expected, errors, accuracy; with the page turns of the printed
    simplified page as the kind "rotated (turned printed page)"."""
    from media.ocr import open_page_image, read_image
    kinds: dict[str, Tally] = {}
    per_image: list[dict[str, Any]] = []
    false_chars = 0
    for row in rows():
        image = open_page_image(CORPUS / row["path"])
        lines = [x for x in row["expected_lines"].split(" | ") if x]
        variants = [(row["kind"], 0, image)]
        if row["path"] == "cnocr/multi-line_cn1.png":
            variants += [("rotated (turned printed page)", d, image.transpose(t))
                         for d, t in TURNS.items()]
        for kind, turn, picture in variants:
            page = read_image(picture)
            text = "".join(line.text for line in page.lines)
            tally = kinds.setdefault(kind, Tally())
            tally.images += 1
            if not lines:
                false_chars += len(normalise(text))
                per_image.append({"path": row["path"], "kind": kind, "read_chars":
                                  len(normalise(text))})
                continue
            expected, errors = score_image(text, lines)
            tally.expected += expected
            tally.errors += errors
            per_image.append({"path": row["path"] + (f" turned {turn}°" if turn else ""),
                              "kind": kind, "expected": expected, "errors": errors,
                              "seconds": round(page.seconds, 2)})
    return {"kinds": {k: {"images": t.images, "expected": t.expected, "errors": t.errors,
                          "accuracy": t.accuracy} for k, t in sorted(kinds.items())},
            "no_text_false_chars": false_chars, "images": per_image}


def a4_page(path: Path) -> Path:
    """A synthetic A4 scan at 300 dpi: real printed Chinese from the corpus (the phone
    screenshot's paragraph, the Heart Sutra graphic, the product sheet) laid out on paper at
    body-text size, saved as a scanner would (JPEG, 300 dpi)."""
    page = Image.new("RGB", A4_300DPI, (246, 243, 236))
    y = 240
    for name, scale in (("cnocr/multi-line_cn1.png", 2.6), ("cnocr/fanti.jpg", 1.2),
                        ("paddleocr/11.jpg", 2.4), ("cnocr/multi-line_cn1.png", 2.6)):
        from media.ocr import open_page_image
        block = open_page_image(CORPUS / name)
        block = block.resize((int(block.width * scale), int(block.height * scale)))
        if block.width > A4_300DPI[0] - 400:
            ratio = (A4_300DPI[0] - 400) / block.width
            block = block.resize((int(block.width * ratio), int(block.height * ratio)))
        if y + block.height > A4_300DPI[1] - 200:
            break
        page.paste(block, (200, y))
        y += block.height + 120
    page.save(path, "JPEG", quality=85, dpi=(300, 300))
    return path


def timed_read(path: str) -> tuple[int, float, float]:
    """In a worker: read one page; (lines, CPU seconds it took this process, the process's
    peak resident MB so far). CPU time is what a quiet core would take, whatever the load."""
    from media.ocr import read_page
    before = resource.getrusage(resource.RUSAGE_SELF)
    page = read_page(path)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return len(page.lines), cpu, after.ru_maxrss / 1024


def throughput(paths: list[str], jobs: int = 2) -> dict[str, Any]:
    """Pages per second reading `paths` in `jobs` isolated workers (the command's own pool,
    one onnxruntime thread each); CPU seconds per page; the workers' peak memory, after the
    first pages and at the end (flat when it does not grow with the pages read)."""
    from ingest.workers import WorkerPool
    started = time.perf_counter()
    with WorkerPool(jobs, timeout=600, memory_mb=4096) as pool:
        # one page per worker first: loading the models is a worker's one-off cost
        warm = [pool.submit(timed_read, paths[0]) for _ in range(jobs)]
        first_peak = max(f.result()[2] for f in warm)
        warmed = time.perf_counter()
        results = [f.result() for f in [pool.submit(timed_read, p) for p in paths]]
        seconds = time.perf_counter() - warmed
    cpu = [r[1] for r in results]
    return {"pages": len(paths), "jobs": jobs, "seconds": round(seconds, 2),
            "pages_per_second": round(len(paths) / seconds, 3),
            "lines": sum(r[0] for r in results),
            "cpu_seconds_per_page": round(sum(cpu) / len(cpu), 2),
            "warm_up_seconds": round(warmed - started, 2),
            "worker_rss_mb_first": round(first_peak),
            "worker_rss_mb_last": round(max(r[2] for r in results))}


def mixed_pages(a4: Path, count: int = 20) -> list[str]:
    """Pages of many shapes, as a worker meets them in a real run: the corpus's images
    (phone screenshots, strips, a cropped word, photographs) with an A4 scan every third."""
    corpus = [str(CORPUS / r["path"]) for r in rows()]
    out: list[str] = []
    for i, path in enumerate(corpus):
        out.append(path)
        if i % 3 == 0:
            out.append(str(a4))
    return out[:count]


def _resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measured_read(path: str, before_fix: bool) -> tuple[float, float, float]:
    """In a worker: read one page; (CPU seconds, resident MB after the page, peak resident
    MB so far). `before_fix`: as the OCR read before #15.2 (no memory given back after a
    page, thin strips enlarged to 736 px high whatever their length)."""
    import media.ocr as engine
    before = resource.getrusage(resource.RUSAGE_SELF)
    if before_fix:
        engine.MAX_DETECTION_SIDE = 1 << 30
        engine._read_page(path)
    else:
        engine.read_page(path)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, _resident_mb(), after.ru_maxrss / 1024


def memory(paths: list[str]) -> dict[str, Any]:
    """One worker per variant, fresh, reading the same pages one by one: its peak resident
    memory after the first page and after the last, the most it held between pages, and the
    CPU seconds per page (the models' loading excluded: the first page is read twice)."""
    from ingest.workers import WorkerPool
    out: dict[str, Any] = {"pages": len(paths)}
    for name, before_fix in (("before", True), ("after", False)):
        with WorkerPool(1, timeout=600, memory_mb=4096) as pool:
            pool.submit(measured_read, paths[0], before_fix).result()  # loads the models
            results = [pool.submit(measured_read, p, before_fix).result() for p in paths]
        out[name] = {"peak_mb_first": round(results[0][2]), "peak_mb_last": round(results[-1][2]),
                     "resident_mb_max": round(max(r[1] for r in results)),
                     "resident_mb_last": round(results[-1][1]),
                     "cpu_seconds_per_page": round(sum(r[0] for r in results) / len(results), 2)}
    return out


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f}, {five:.1f}, {fifteen:.1f} (1, 5, 15 min) on {os.cpu_count()} cores"


def run(a4_pages: int = 8) -> dict[str, Any]:
    """All OCR figures; empty when the shared corpus is absent."""
    if not (CORPUS / "SOURCES.csv").is_file():
        return {}
    from media.ocr import engine_name, model_name
    out: dict[str, Any] = {"engine": engine_name(), "model": model_name(),
                           "load_before": load()}
    out["accuracy"] = accuracy()
    with tempfile.TemporaryDirectory() as tmp:
        page = a4_page(Path(tmp) / "a4.jpg")
        out["a4"] = throughput([str(page)] * a4_pages)
        corpus = [str(CORPUS / r["path"]) for r in rows()]
        out["corpus"] = throughput(corpus)
        out["memory"] = memory(mixed_pages(page))
    out["load_after"] = load()
    return out


NOTE = ("Known lines are mostly partial lists (each is looked for in what was read; text "
        "beyond them is not an error). The handwriting figure is one scanned line of 18 common "
        "characters: it says the engine can read neat handwriting, not how well it reads a "
        "scientist's letters. \"rotated (turned printed page)\" is the printed simplified "
        "page turned 90°, 180° and 270° in its pixels.")


def report_lines(o: dict[str, Any]) -> list[str]:
    """The OCR section of docs/PERFORMANCE.md."""
    if not o:
        return []
    goals = {"printed-simplified": 0.97, "printed-traditional": 0.97, "mixed": 0.90,
             "rotated": 0.90, "rotated (turned printed page)": 0.90, "vertical": None,
             "handwritten": None}
    lines = ["## OCR", "",
             f"`benchmarks/ocr.py` ({o['engine']}; {o['model']}) on the 20 images of "
             "`shared/corpus/ocr/` with their known lines. Load average before: "
             f"{o['load_before']}; after: {o['load_after']} (the machine is shared: pages/s "
             "are low bounds).", "",
             "| kind | images | known characters | errors | accuracy (1 − CER) | goal |",
             "|---|---|---|---|---|---|"]
    for kind, k in o["accuracy"]["kinds"].items():
        if kind == "no-text":
            continue
        want = goals.get(kind)
        shown = f"{k['accuracy']:.1%}" if k["accuracy"] is not None else "–"
        goal = (f"≥ {want:.0%}: " + ("met" if (k["accuracy"] or 0) >= want else "**not met**")
                if want else "reported as measured")
        lines.append(f"| {kind} | {k['images']} | {k['expected']} | {k['errors']} | {shown} | "
                     f"{goal} |")
    nt = o["accuracy"]["kinds"].get("no-text", {})
    lines += [f"| no-text | {nt.get('images', 0)} | 0 | "
              f"{o['accuracy']['no_text_false_chars']} characters read | – | none read |", "",
              NOTE, ""]
    a4, corpus = o["a4"], o["corpus"]
    quiet = 1 / a4["cpu_seconds_per_page"]
    lines += ["| throughput, 2 worker processes (one onnxruntime thread each) | pages/s, as "
              "measured | CPU s per page | pages/s per quiet core | goal |",
              "|---|---|---|---|---|",
              f"| synthetic A4 scan, 300 dpi (2480×3508 JPEG, {a4['lines'] // a4['pages']} "
              f"lines), {a4['pages']} pages | {a4['pages_per_second']} | "
              f"{a4['cpu_seconds_per_page']} | {quiet:.2f} | ≥ 0.5 per core: "
              f"{'met' if quiet >= 0.5 else '**not met**'} on a quiet core |",
              f"| the corpus's {corpus['pages']} images | {corpus['pages_per_second']} | "
              f"{corpus['cpu_seconds_per_page']} | {1 / corpus['cpu_seconds_per_page']:.2f} "
              "| |", "",
              "Pages/s as measured are wall time on the shared, loaded machine (see the load "
              "above): the two workers got a fraction of the two cores. CPU seconds per page "
              "is what each page cost its worker, so 1 / that is what a core free for the OCR "
              "reads.", "",
              f"Worker memory (peak resident): {a4['worker_rss_mb_first']} MB after the first "
              f"page, {a4['worker_rss_mb_last']} MB after {a4['pages'] + 1} A4 pages; "
              f"models load once per worker ({a4['warm_up_seconds']} s for the first page "
              "of each).", ""]
    if "memory" in o:
        lines += memory_lines(o["memory"])
    return lines


def memory_lines(m: dict[str, Any]) -> list[str]:
    """The table of one worker's memory over pages of mixed shapes, before and after #15.2."""
    lines = [f"One worker reading {m['pages']} pages of mixed shapes (the corpus's images, an A4 "
             "scan every third), one after the other, in a fresh worker per row (the models "
             "loaded first):", "",
             "| worker | peak resident after page 1 | peak after the last | resident between "
             "pages (most) | CPU s per page |", "|---|---|---|---|---|"]
    for name, label in (("before", "before #15.2 (freed memory kept, strips enlarged to 736 "
                                   "px high)"),
                        ("after", "after (memory given back after each page, detection "
                                  "≤ 2048 px)")):
        v = m[name]
        lines.append(f"| {label} | {v['peak_mb_first']} MB | {v['peak_mb_last']} MB | "
                     f"{v['resident_mb_max']} MB | {v['cpu_seconds_per_page']} |")
    lines += ["", "The peak is the largest page's own working memory (an A4 scan's detection); "
              "what a worker keeps between pages no longer grows with the shapes it has met.",
              ""]
    return lines


if __name__ == "__main__":
    json.dump(run(), sys.stdout, ensure_ascii=False, indent=1)
    print()
