"""The programme's figures, computed by the database (GROUP BY), never by loading the catalog."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, case, cast, extract, func, select
from sqlalchemy.orm import Session

from archive.fields import MATERIAL_TYPES
from archive.models import File, Item, Scientist


def _minutes(seconds: float | None) -> float:
    return round((seconds or 0.0) / 60, 1)


def _fixity_counts(s: Session) -> dict[str, int]:
    """Files missing or changed as ingest or `archive verify` last found them (File.status;
    NULL is present), in one pass."""
    missing, changed = s.execute(select(
        func.sum(case((File.status == "missing", 1), else_=0)),
        func.sum(case((File.status == "changed", 1), else_=0)))).one()
    return {"missing_files": int(missing or 0), "changed_files": int(changed or 0)}


def catalog_stats(s: Session, by_year: bool = False) -> dict[str, Any]:
    """Items and files per material type, minutes of audio and video, and the same per
    scientist. Seconds are summed over items (duplicate copies do not count twice)."""
    items = s.scalar(select(func.count(Item.id))) or 0
    files = s.scalar(select(func.count(File.id))) or 0
    by_type: dict[str, dict[str, Any]] = {}
    for mtype, n, seconds in s.execute(select(Item.type, func.count(Item.id),
                                              func.sum(Item.seconds)).group_by(Item.type)):
        by_type[mtype] = {"items": n, "files": 0, "seconds": round(float(seconds or 0), 3)}
    for mtype, n in s.execute(select(Item.type, func.count(File.id))
                              .join(File, File.item_id == Item.id).group_by(Item.type)):
        by_type.setdefault(mtype, {"items": 0, "files": 0, "seconds": 0.0})["files"] = n
    order = {t: i for i, t in enumerate(MATERIAL_TYPES)}
    by_type = dict(sorted(by_type.items(), key=lambda kv: order.get(kv[0], 99)))

    per_sci: dict[int | None, dict[str, Any]] = {}
    for sid, mtype, n, seconds in s.execute(
            select(Item.scientist_id, Item.type, func.count(Item.id), func.sum(Item.seconds))
            .group_by(Item.scientist_id, Item.type)):
        entry = per_sci.setdefault(sid, {"items": 0, "files": 0, "audio_minutes": 0.0,
                                         "video_minutes": 0.0, "by_type": {}})
        entry["items"] += n
        entry["by_type"][mtype] = n
        if mtype in ("audio", "video"):
            entry[f"{mtype}_minutes"] = round(entry[f"{mtype}_minutes"] + _minutes(seconds), 1)
    for sid, n in s.execute(select(Item.scientist_id, func.count(File.id))
                            .join(File, File.item_id == Item.id).group_by(Item.scientist_id)):
        per_sci.setdefault(sid, {"items": 0, "files": 0, "audio_minutes": 0.0,
                                 "video_minutes": 0.0, "by_type": {}})["files"] = n
    names = dict(s.execute(select(Scientist.id, Scientist.name)).all())
    scientists = [{"name": names.get(sid) if sid is not None else None, **entry}
                  for sid, entry in per_sci.items()]
    scientists.sort(key=lambda e: (e["name"] is None, -e["items"], e["name"] or ""))

    result: dict[str, Any] = {
        "items": items,
        "files": files,
        "by_type": by_type,
        "audio_minutes": _minutes(by_type.get("audio", {}).get("seconds")),
        "video_minutes": _minutes(by_type.get("video", {}).get("seconds")),
        "scientists": scientists,
        "bytes": int(s.scalar(select(func.sum(File.size))) or 0),
        "files_with_problems": s.scalar(select(func.count(File.id))
                                        .where(File.problem.is_not(None))) or 0,
        "duplicate_files": s.scalar(select(func.count(File.id))
                                    .where(File.duplicate_of_id.is_not(None))) or 0,
        **_fixity_counts(s),
    }
    if by_year:
        # An approximate date counts under the year it states: "circa 1979" is searched as
        # 1974..1984 (archive.dates) but counted as 1979, the middle of that span. Exact dates
        # and ranges count under their first year.
        start, end = extract("year", Item.date_start), extract("year", Item.date_end)
        year = case((Item.date_precision == "circa", cast((start + end) / 2, Integer)),
                    else_=cast(start, Integer))
        rows = s.execute(select(year, func.count(Item.id)).group_by(year).order_by(year)).all()
        result["by_year"] = {(str(int(y)) if y is not None else "undated"): n for y, n in rows}
    return result
