"""The result of an ingest run: counts and every skipped, duplicate or failed file; the summary
the run prints, and the same report rebuilt from the catalog for `archive runs show`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the report is made without the catalog's models (ingest/noop.py)
    from archive.runs import StoredRun

LIST_LIMIT = 50  # skipped files shown in the text summary; --json has them all
_DUPLICATE = "same bytes as "  # how the writer words a duplicate's reason


@dataclass
class IngestReport:
    roots: list[str]
    dry_run: bool = False
    run_id: int | None = None
    seen: int = 0  # files the walk found so far: the progress bar's total
    done: int = 0  # files dealt with (found unchanged, written, or unreadable): never > seen
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    moved: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (path, path of original)
    skipped: list[dict[str, str]] = field(default_factory=list)  # {path, reason}
    problems: list[dict[str, str]] = field(default_factory=list)  # {path, stage, reason}
    # First folders under a root left unattributed: their names cannot be a person's.
    unattributed: list[str] = field(default_factory=list)
    # Catalogued files gone from the walked roots (marked missing, never deleted), and those
    # back at their path (restored); a missing file found elsewhere counts as moved.
    missing: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    interrupted: bool = False
    indexed: int | None = None  # items (re)indexed for search at the end of the run
    index_error: str | None = None  # why the index was not updated (the catalog is fine)

    @property
    def exit_code(self) -> int:
        """1 when files had problems; a dry run only predicts them, and exits 0."""
        if self.interrupted:
            return 1
        return 1 if self.problems and not self.dry_run else 0

    def absorb(self, batch: IngestReport) -> None:
        """Add a committed batch's counts and lists to this report."""
        for name in ("new", "changed", "unchanged", "moved", "bytes_read"):
            setattr(self, name, getattr(self, name) + getattr(batch, name))
        self.duplicates += batch.duplicates
        self.skipped += batch.skipped
        self.problems += batch.problems
        self.restored += batch.restored

    def counts(self) -> dict[str, int]:
        return {"seen": self.seen, "new": self.new, "changed": self.changed,
                "unchanged": self.unchanged, "moved": self.moved,
                "duplicates": len(self.duplicates), "skipped": len(self.skipped),
                "problems": len(self.problems)}

    def stored_counts(self) -> dict[str, Any]:
        """What the run's row keeps: the counts and what else its summary prints."""
        return {**self.counts(), "bytes_read": self.bytes_read, "seconds": self.seconds,
                "indexed": self.indexed, "index_error": self.index_error,
                "unattributed": self.unattributed, "missing": self.missing,
                "restored": self.restored}

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run_id, "roots": self.roots, "dry_run": self.dry_run,
            "seen": self.seen, "new": self.new, "changed": self.changed,
            "unchanged": self.unchanged, "moved": self.moved,
            "duplicates": [list(pair) for pair in self.duplicates],
            "skipped": self.skipped, "problems": self.problems,
            "unattributed": self.unattributed,
            "missing": self.missing, "restored": self.restored,
            "bytes_read": self.bytes_read, "seconds": round(self.seconds, 3),
            "files_per_second": round(self.seen / self.seconds, 1) if self.seconds else None,
            "interrupted": self.interrupted,
            "indexed": self.indexed, "index_error": self.index_error,
        }


class Progress(Protocol):
    """What the pipeline tells a progress display; the CLI draws it, the library never does.
    `update` comes after each file is dealt with (written, found unchanged, or unreadable)
    and after each folder; the display shows `report.done` of `report.seen`, the same unit
    (files) on both sides, so the count can never pass the total."""

    def update(self, report: IngestReport, current: str) -> None: ...


class NullProgress:
    def update(self, report: IngestReport, current: str) -> None:
        return None


def _section(title: str, entries: list[str], limit: int | None = None) -> list[str]:
    """A titled list for the summary, the first `limit` entries and a count of the rest."""
    if not entries:
        return []
    shown = entries if limit is None else entries[:limit]
    lines = [title, *(f"  {e}" for e in shown)]
    if len(entries) > len(shown):
        lines.append(f"  … and {len(entries) - len(shown)} more (see --json)")
    return lines


def summary_text(report: IngestReport) -> str:
    """What `archive ingest` prints at the end, and `archive runs show` prints again."""
    c = report.counts()
    rate = f" ({report.seen / report.seconds:.0f} files/s)" if report.seconds > 0 else ""
    verb = "Would ingest" if report.dry_run else "Ingested"
    lines = [f"{verb}: {c['seen']} files seen in {report.seconds:.1f} s{rate}",
             "  " + " · ".join(f"{k} {v}" for k, v in c.items() if k != "seen")]
    if report.duplicates:
        lines.append("Duplicates (same bytes as an earlier file):")
        lines += [f"  {a}  =  {b}" for a, b in report.duplicates]
    lines += _section("Skipped:", [f"{s['path']}: {s['reason']}" for s in report.skipped],
                      LIST_LIMIT)
    lines += _section("Problems (catalogued with the error unless the file was unreadable):",
                      [f"{p['path']} [{p['stage']}]: {p['reason']}" for p in report.problems])
    lines += _section("Missing (catalogued, gone from the folder; the run would mark them "
                      "missing):" if report.dry_run else
                      "Missing (catalogued, gone from the folder; kept in the catalog as "
                      "missing):", report.missing, LIST_LIMIT)
    if report.restored:
        lines.append("Restored (missing files back in place):")
        lines += [f"  {path}" for path in report.restored]
    if report.unattributed:
        lines.append("Not attributed to a scientist (these folder names are not people's "
                     "names; run the ingest again with --scientist NAME to attribute them):")
        lines += [f"  {folder}/" for folder in report.unattributed]
    if report.index_error:
        lines.append(f"Search index not updated: {report.index_error}")
    elif report.indexed:
        lines.append(f"Search index: {report.indexed} item(s) indexed")
    if report.interrupted:
        lines.append("Interrupted: the files above were catalogued; running the same command "
                     "again goes on from there.")
    return "\n".join(lines)


def report_from_run(stored: StoredRun) -> IngestReport:
    """An ingest run's report rebuilt from its catalog rows. A run killed before it wrote its
    counts gets them from the events it recorded (new, changed, moved files)."""
    run = stored.summary
    counts = run.counts
    report = IngestReport(roots=run.roots, run_id=run.id, interrupted=run.status != "completed")
    for p in stored.problems:
        if p.kind == "duplicate":
            original = p.reason[len(_DUPLICATE):] if p.reason.startswith(_DUPLICATE) else p.reason
            report.duplicates.append((p.path, original))
        elif p.kind == "skipped":
            report.skipped.append({"path": p.path, "reason": p.reason})
        elif p.kind == "problem":
            report.problems.append({"path": p.path, "stage": p.stage or "", "reason": p.reason})
    if counts is None:
        report.new = stored.events.get("ingestion", 0)
        report.changed = stored.events.get("modification", 0)
        report.moved = stored.events.get("move", 0)
        report.seen = report.new + report.changed + report.moved
        return report
    for key in ("seen", "new", "changed", "unchanged", "moved", "bytes_read"):
        setattr(report, key, int(counts.get(key) or 0))
    report.seconds = float(counts.get("seconds") or 0.0)
    report.indexed = counts.get("indexed")
    report.index_error = counts.get("index_error")
    report.unattributed = list(counts.get("unattributed") or [])
    report.missing = list(counts.get("missing") or [])
    report.restored = list(counts.get("restored") or [])
    return report
