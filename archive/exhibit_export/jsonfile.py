"""The exhibit as JSON, for the museum's display systems: versioned, machine-readable."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from archive.exhibit_export.rows import SCHEMA_VERSION, ExhibitExport


def export_dict(export: ExhibitExport) -> dict[str, Any]:
    objects = []
    for row in export.rows:
        record = asdict(row)
        record["extent"] = row.extent
        objects.append(record)
    return {"schema": SCHEMA_VERSION,
            "exhibit": {"slug": export.slug, "title": export.title,
                        "description": export.description,
                        "sections": [s for s in export.sections if s is not None]},
            "objects": objects}


def write_json(export: ExhibitExport, path: Path) -> None:
    path.write_text(json.dumps(export_dict(export), ensure_ascii=False, indent=2) + "\n",
                    encoding="utf-8")
