"""`archive search`: the query language, facets and snippets, for people and for scripts."""
from __future__ import annotations

import html
import itertools
import json
import re
import time
from typing import TYPE_CHECKING

import click

from archive.cli import AppContext
from archive.durations import clock
from archive.fields import MATERIAL_TYPES
from search.query import MAX_LIMIT

if TYPE_CHECKING:
    from search.searcher import SearchResult


def _terminal_snippet(snippet: str) -> str:
    parts = re.split(r"(<mark>.*?</mark>)", snippet.replace("\n", " "))
    out = []
    for part in parts:
        if part.startswith("<mark>"):
            out.append(click.style(html.unescape(part[6:-7]), bold=True, underline=True))
        else:
            out.append(html.unescape(part))
    return "".join(out)


def render(result: SearchResult, query: str, seconds: float) -> str:
    lines = [f"{result.total} result{'s' if result.total != 1 else ''}"
             + (f" for {query}" if query else "") + f" ({seconds * 1000:.0f} ms)"]
    for n, h in enumerate(result.hits, start=1):
        facts = " · ".join(x for x in (h["type"], h["scientist"], h["date"],
                                        clock(h["duration"]) if h["duration"] else None) if x)
        at = f"  ▶ {clock(h['at_seconds'])}" if h["at_seconds"] is not None else ""
        lines.append(f"{n:>3}. {h['accession']}  {h['title']}  [{facts}]{at}")
        if h["snippet"]:
            # Machine-read text is labelled wherever it is shown (#15).
            source = f"[machine-read, page {h['page']}] " \
                if h.get("text_source") == "ocr" else ""
            lines.append("     " + source + _terminal_snippet(h["snippet"]))
        if h["path"]:
            lines.append(click.style(f"     {h['path']}", dim=True))
        lines += [f"     file missing: {p}" for p in h.get("missing", [])]
    for name, counts in result.facets.items():
        if counts:
            lines.append(f"{name}: " + " · ".join(f"{k} {v}" for k, v in counts.items()))
    return "\n".join(lines)


class QueryCommand(click.Command):
    """A command whose free words are a query, and a query may start with '-' (`-火箭`
    excludes): any word that is not one of the command's options is a query word, wherever
    it stands, so options may come before or after the query. After `--` everything is query.
    A word starting with `--` that is no option is a mistyped option, not a query."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        options = {name: p for p in self.get_params(ctx) if isinstance(p, click.Option)
                   for name in (*p.opts, *p.secondary_opts)}
        head: list[str] = []
        words: list[str] = []
        rest = iter(args)
        for arg in rest:
            name = arg.split("=", 1)[0]
            if arg == "--":
                words.extend(rest)
            elif name in options:
                head.append(arg)
                option = options[name]
                if not option.is_flag and not option.count and "=" not in arg:
                    head.extend(itertools.islice(rest, option.nargs))
            elif arg.startswith("--") and len(arg) > 2:
                import difflib  # only to suggest the option meant
                raise click.NoSuchOption(name, possibilities=difflib.get_close_matches(
                    name, [o for o in options if o.startswith("--")]), ctx=ctx)
            else:
                words.append(arg)
        return super().parse_args(ctx, [*head, "--", *words])


@click.command("search", cls=QueryCommand)
@click.argument("query", nargs=-1)
@click.option("--scientist", metavar="NAME", help="Only this scientist (any name or variant).")
@click.option("--type", "material", metavar="TYPE",
              help=f"Only this material type: {', '.join(MATERIAL_TYPES)} (or 信件, 录音, …).")
@click.option("--from", "year_from", type=int, metavar="YEAR", help="Dated in or after YEAR.")
@click.option("--to", "year_to", type=int, metavar="YEAR", help="Dated in or before YEAR.")
@click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=20, show_default=True,
              help="How many hits to show.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many hits.")
@click.option("--facets", is_flag=True, help="Count hits by type, scientist and decade.")
@click.option("--include-restricted", is_flag=True,
              help="Include restricted and closed items (for staff).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.pass_obj
def command(app: AppContext, query: tuple[str, ...], scientist: str | None, material: str | None,
            year_from: int | None, year_to: int | None, limit: int, offset: int, facets: bool,
            include_restricted: bool, as_json: bool) -> None:
    """Search the archive. QUERY takes words and "phrases" in Chinese or English, and
    scientist:, type:, date:1950..1960 or 1950s, duration:>30m, title:, -excluded, OR and ( ).
    Its words need no quotes and may start with '-' (`archive search 火箭 -卫星`)."""
    # The engine and the catalog: not for --help. The catalog is opened by search_catalog,
    # without the ORM while the index is current (search.searcher says why).
    from search.searcher import SearchOptions, search_catalog
    text = " ".join(query)
    options = SearchOptions(query=text, scientist=scientist, type=material,
                            year_from=year_from, year_to=year_to, limit=limit, offset=offset,
                            facets=facets, include_restricted=include_restricted)
    started = time.perf_counter()
    result = search_catalog(app.settings, options)
    elapsed = time.perf_counter() - started
    if result.index_note:
        click.echo(f"Note: {result.index_note}", err=True)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(render(result, text, elapsed))
