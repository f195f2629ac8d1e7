"""The result of an ingest run: counts and every skipped, duplicate or failed file."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class IngestReport:
    roots: list[str]
    dry_run: bool = False
    run_id: int | None = None
    seen: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    moved: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (path, path of original)
    skipped: list[dict[str, str]] = field(default_factory=list)  # {path, reason}
    problems: list[dict[str, str]] = field(default_factory=list)  # {path, stage, reason}
    interrupted: bool = False
    indexed: int | None = None  # items (re)indexed for search at the end of the run
    index_error: str | None = None  # why the index was not updated (the catalog is fine)

    @property
    def exit_code(self) -> int:
        return 1 if self.problems or self.interrupted else 0

    def counts(self) -> dict[str, int]:
        return {"seen": self.seen, "new": self.new, "changed": self.changed,
                "unchanged": self.unchanged, "moved": self.moved,
                "duplicates": len(self.duplicates), "skipped": len(self.skipped),
                "problems": len(self.problems)}

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run_id, "roots": self.roots, "dry_run": self.dry_run,
            "seen": self.seen, "new": self.new, "changed": self.changed,
            "unchanged": self.unchanged, "moved": self.moved,
            "duplicates": [list(pair) for pair in self.duplicates],
            "skipped": self.skipped, "problems": self.problems,
            "bytes_read": self.bytes_read, "seconds": round(self.seconds, 3),
            "files_per_second": round(self.seen / self.seconds, 1) if self.seconds else None,
            "interrupted": self.interrupted,
            "indexed": self.indexed, "index_error": self.index_error,
        }


class Progress(Protocol):
    """What the pipeline tells a progress display; the CLI draws it, the library never does.
    `update` comes after each file is dealt with (written, or found unchanged)."""

    def update(self, report: IngestReport, current: str) -> None: ...


class NullProgress:
    def update(self, report: IngestReport, current: str) -> None:
        return None
