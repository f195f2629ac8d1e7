"""`archive stats`: the programme's figures from the catalog."""
from __future__ import annotations

import json

import click

from archive.cli import AppContext
from archive.stats import catalog_stats


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    def line(r: list[str]) -> str:
        last = len(r) - 1
        return "  ".join(c + " " * (w - _width(c)) if i in (0, last) and not _numeric(c)
                         else " " * (w - _width(c)) + c
                         for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()
    return "\n".join([line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "").isdigit()


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def render(stats: dict, by: str) -> str:
    out = [f"Items: {stats['items']:,}   Files: {stats['files']:,}   "
           f"Audio: {stats['audio_minutes']:,.1f} min   Video: {stats['video_minutes']:,.1f} min",
           f"Bytes: {stats['bytes']:,}   Files with problems: {stats['files_with_problems']:,}"
           f"   Duplicate files: {stats['duplicate_files']:,}",
           f"Missing files: {stats['missing_files']:,}   Changed files: "
           f"{stats['changed_files']:,}", ""]
    if by == "type":
        rows = [[t, f"{v['items']:,}", f"{v['files']:,}", f"{v['seconds'] / 60:,.1f}"]
                for t, v in stats["by_type"].items()]
        out.append(_table(rows, ["type", "items", "files", "minutes"]))
        out.append("")
    if by in ("type", "scientist"):
        rows = [[s["name"] or "(no scientist)", f"{s['items']:,}", f"{s['files']:,}",
                 f"{s['audio_minutes']:,.1f}", f"{s['video_minutes']:,.1f}",
                 ", ".join(f"{t} {n}" for t, n in sorted(s["by_type"].items()))]
                for s in stats["scientists"]]
        out.append(_table(rows, ["scientist", "items", "files", "audio min", "video min",
                                 "by type"]))
    if by == "year":
        rows = [[y, f"{n:,}"] for y, n in stats["by_year"].items()]
        out.append(_table(rows, ["year", "items"]))
    return "\n".join(out)


@click.command("stats")
@click.option("--by", type=click.Choice(["type", "scientist", "year"]), default="type",
              show_default=True, help="How to break the figures down in the table.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_obj
def command(app: AppContext, by: str, as_json: bool) -> None:
    """Items and files per material type, minutes of audio and video, per scientist."""
    catalog = app.open_catalog(read_only=True)
    with catalog.session() as s:
        stats = catalog_stats(s, by_year=(by == "year"))
    if as_json:
        click.echo(json.dumps(stats, ensure_ascii=False, indent=2))
    else:
        click.echo(render(stats, by))
