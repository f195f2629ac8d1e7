"""`archive show`: one item with its files, technical metadata and provenance."""
from __future__ import annotations

import json

import click

from archive.cli import AppContext
from archive.durations import length
from archive.records import item_record


def _fixity(f: dict) -> str:
    """The note on a file's line when it is not as catalogued, e.g. "  MISSING since
    2026-12-01 16:03:12 UTC"; nothing for a present file."""
    if f.get("status") not in ("missing", "changed"):
        return ""
    since = (f.get("status_since") or "").replace("T", " ")
    what = "MISSING" if f["status"] == "missing" else "CHANGED (bytes differ from sha256)"
    return f"  {what} since {since} UTC" if since else f"  {what}"


def render(rec: dict) -> str:
    out = [f"{rec['accession']}  {rec['title']}"]
    for key in ("type", "scientist", "date", "access", "sealing", "description", "rights",
                "location", "collection", "pages", "seconds"):
        if rec.get(key) is not None:
            value = f"{rec[key]} ({length(rec[key])})" if key == "seconds" else rec[key]
            out.append(f"  {key:<12} {value}")
    for k, v in (rec.get("extra") or {}).items():
        out.append(f"  {k:<12} {v}")
    if rec.get("withdrawn_at"):
        out.append(f"  {'WITHDRAWN':<12} {rec['withdrawn_at']} UTC: {rec['withdrawn_reason']}")
    for f in rec["files"]:
        out.append(f"  file {f['path']}  [{f['role']}]{_fixity(f)}")
        for key, value in f.items():
            if key in ("path", "role", "technical", "derivatives", "status", "status_since"):
                continue
            if key == "text":
                value = value.replace("\n", " ")[:120] + ("…" if len(value) > 120 else "")
            out.append(f"      {key:<16} {value}")
        for key, value in (f.get("technical") or {}).items():
            if key != "streams" and key not in f:  # shown above already (cues, say)
                out.append(f"      {key:<16} {value}")
        for stream in (f.get("technical") or {}).get("streams", []):
            out.append("      stream           " + ", ".join(f"{k} {v}" for k, v in
                                                             stream.items()))
        for kind, path in (f.get("derivatives") or {}).items():
            out.append(f"      {kind:<16} {path}")
    out.append("  events")
    for e in rec["events"]:
        change = f"{e['field']}: {e.get('old') or '∅'} → {e.get('new') or '∅'}" \
            if e.get("field") else ""
        parts = (e["at"], e["kind"], e.get("outcome", ""), e.get("agent", ""),
                 e.get("file", ""), change, e.get("detail", ""))
        out.append("      " + "  ".join(p for p in parts if p))
    return "\n".join(out)


@click.command("show")
@click.argument("accession")
@click.option("--json", "as_json", is_flag=True, help="Print the item as JSON.")
@click.pass_obj
def command(app: AppContext, accession: str, as_json: bool) -> None:
    """Show the item ACCESSION with its files and metadata."""
    catalog = app.open_catalog(read_only=True)
    with catalog.session() as s:
        rec = item_record(s, accession, app.settings.derivatives_dir)
    if as_json:
        click.echo(json.dumps(rec, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(render(rec))
