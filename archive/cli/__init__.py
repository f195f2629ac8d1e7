"""The `archive` command: a thin click layer over the library. This module is the one place
where library exceptions become messages and exit codes (0 ok, 1 files had problems,
2 the command could not do what was asked, 3 a bug)."""
from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any, TypeVar

import click

from archive import __version__
from archive.errors import ArchiveError
from archive.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    from archive.catalog import Catalog

EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_BUG = 3
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a closed pipe


@dataclass
class AppContext:
    settings: Settings
    debug: bool

    def open_catalog(self, create: bool = False, read_only: bool = False) -> Catalog:
        """Commands that only read pass `read_only`: they then work on a catalog that cannot
        be written (a published copy, read-only media) and never change one that can."""
        from archive.catalog import Catalog
        return Catalog.open(self.settings, create=create, read_only=read_only)


# Each command's module, imported only when that command runs (or its help is shown), so
# `archive --help` and `archive --version` load no database, media or search library. A module
# holds one command object named `command`; add new commands here.
COMMANDS: dict[str, str] = {
    "ingest": "archive.cli.ingest",
    "derive": "archive.cli.derive",
    "ocr": "archive.cli.ocr",
    "search": "archive.cli.search",
    "reindex": "archive.cli.reindex",
    "stats": "archive.cli.stats",
    "show": "archive.cli.show",
    "export": "archive.cli.export",
    "scientists": "archive.cli.scientists",
    "exhibit": "archive.cli.exhibit",
    "serve": "archive.cli.serve",
    "verify": "archive.cli.verify",
    "edit": "archive.cli.edit",
    "runs": "archive.cli.runs",
    "items": "archive.cli.items",
    "withdraw": "archive.cli.withdraw",
    "reinstate": "archive.cli.reinstate",
    "forget": "archive.cli.forget",
    "verify-bag": "archive.cli.verify_bag",
    "requests": "archive.cli.requests",
    "audit": "archive.cli.audit",
    "users": "archive.cli.users",
    "upgrade": "archive.cli.upgrade",
}
# One line per command for `archive --help`, so listing them imports none of them.
SHORT_HELP: dict[str, str] = {
    "ingest": "Catalogue every file under folders, in place.",
    "derive": "Build thumbnails, poster frames, waveforms and access copies.",
    "ocr": "Machine-read the text of scanned letters, manuscripts and PDFs (Chinese OCR).",
    "search": "Search the catalog (Chinese and English, names, dates, types).",
    "reindex": "Rebuild the search index from the catalog.",
    "stats": "The programme's figures: items, files, minutes of audio and video.",
    "show": "One item with its files, metadata and provenance.",
    "export": "The whole catalog (JSON Lines, CSV); EAD3, EAC-CPF, Dublin Core, BagIt.",
    "scientists": "Add, import and list scientists and their names.",
    "exhibit": "Exhibit lists for the museum: build, order, caption, export.",
    "serve": "The read-only researchers' site.",
    "verify": "Fixity: re-read files and compare their SHA-256 with the catalog.",
    "edit": "Correct an item's title, date, scientist, type, access, description, ….",
    "runs": "Past ingest and verify runs; `runs show N` prints one again.",
    "items": "List items; export and import them as a spreadsheet for bulk edits.",
    "withdraw": "Take items off search, the site, exhibits and exports (kept in the catalog).",
    "reinstate": "Bring withdrawn items back.",
    "forget": "Remove files catalogued by mistake (a manifest, a stray file), with a record.",
    "verify-bag": "Check a BagIt bag (as `archive export bag` makes them).",
    "requests": "Researchers' access requests: list, approve (a grant that expires), deny.",
    "audit": "Who viewed or downloaded restricted and closed material on the site.",
    "users": "Accounts for the site: add, list, disable, enable, passwd, role.",
    "upgrade": "Bring a catalog made by an older version up to date (schema migrations).",
}


def by_option(who: str = "Who makes the change") -> Callable[[F], F]:
    """`--by NAME`: the agent the command's provenance events record (else the system user)."""
    return click.option("--by", "by", metavar="NAME",
                        help=f"{who}, for the provenance (default: the system user).")


class ArchiveGroup(click.Group):
    """A group whose commands are imported on demand (click's documented lazy-group pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        command: click.Command = import_module(module).command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SHORT_HELP.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except ArchiveError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(EXIT_USAGE)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (`archive export | head`): stop quietly, as `cat` does.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(EXIT_BROKEN_PIPE)
        except KeyboardInterrupt:
            click.echo("Interrupted: finished files are catalogued; run the same command again "
                       "to continue.", err=True)
            ctx.exit(130)
        except Exception as exc:
            debug = bool(ctx.obj and ctx.obj.debug)
            if debug:
                raise
            click.echo(f"Unexpected error: {type(exc).__name__}: {exc}\n"
                       "This is a bug; run again with --debug for the traceback and report it.",
                       err=True)
            ctx.exit(EXIT_BUG)


@click.group(cls=ArchiveGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--catalog", metavar="PATH_OR_URL",
              help="Catalog to use: an SQLite file (default ./catalog.db) or a SQLAlchemy URL "
                   "such as postgresql+psycopg://user@host/db. Env: ARCHIVE_CATALOG.")
@click.option("--config", type=click.Path(dir_okay=False), metavar="FILE",
              help="TOML settings file. Env: ARCHIVE_CONFIG.")
@click.option("--debug", is_flag=True, help="Log details and show tracebacks of bugs.")
@click.version_option(__version__, prog_name="archive")
@click.pass_context
def main(ctx: click.Context, catalog: str | None, config: str | None, debug: bool) -> None:
    """The scientists' archive: catalogue, search and report on scientists' papers,
    photographs and recordings."""
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        settings = load_settings({"catalog": catalog}, config_file=config)
    except ArchiveError as exc:
        raise click.UsageError(str(exc)) from None
    ctx.obj = AppContext(settings, debug)
