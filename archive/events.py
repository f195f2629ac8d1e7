"""Provenance events, PREMIS-style: one place that says who did what with which tool, so every
command records its events the same way. Events are added, never rewritten.

    agent_name(None)      -> the operating-system user, e.g. "archivist"
    agent_name("Li Wei")  -> "Li Wei"
    event_row("fixity check", file_id=4, outcome="failure", detail="sha256 differs")
        -> a dict for insert(Event) with agent, tool and time filled in
"""
from __future__ import annotations

import getpass
import os
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

import archive
from archive.models import Event, utcnow

TOOL = f"archive {archive.__version__}"

# The event kinds the archive records (PREMIS event types where one fits).
INGESTION = "ingestion"
DIGEST = "message digest calculation"
EXTRACTION = "metadata extraction"
MODIFICATION = "modification"
METADATA_MODIFICATION = "metadata modification"
MOVE = "move"
FIXITY_CHECK = "fixity check"
MISSING = "missing"
RESTORED = "restored"
WITHDRAWAL = "withdrawal"
REINSTATEMENT = "reinstatement"
DELETION = "deletion"
MERGE = "merge"


def agent_name(by: str | None = None) -> str:
    """`--by NAME` where given, else the operating-system user (never empty)."""
    if by and by.strip():
        return by.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return f"uid {os.getuid()}"


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def event_row(kind: str, *, item_id: int | None = None, file_id: int | None = None,
              run_id: int | None = None, agent: str | None = None, tool: str = TOOL,
              outcome: str = "success", field: str | None = None, old: Any = None,
              new: Any = None, detail: str | None = None) -> dict[str, Any]:
    return {"kind": kind, "item_id": item_id, "file_id": file_id, "run_id": run_id,
            "agent": agent or agent_name(), "tool": tool, "outcome": outcome, "field": field,
            "old_value": _text(old), "new_value": _text(new), "detail": detail, "at": utcnow()}


def record_events(s: Session, rows: list[dict[str, Any]]) -> None:
    """Insert event rows made by event_row, in one statement."""
    if rows:
        s.execute(insert(Event), rows)
