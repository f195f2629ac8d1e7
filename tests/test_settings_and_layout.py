"""Settings layering, catalog opening errors, the import rules between layers, and docs."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import pytest

from archive.catalog import Catalog
from archive.cli import main
from archive.errors import CatalogError, UsageError
from archive.fields import EXPORT_KEYS
from archive.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_settings_layers(tmp_path: Path):
    toml = tmp_path / "archive.toml"
    toml.write_text('catalog = "from_file.db"\njobs = 3\nbatch_size = 50\n')
    s = load_settings({}, environ={"ARCHIVE_CONFIG": str(toml), "ARCHIVE_JOBS": "5"})
    assert (s.catalog, s.jobs, s.batch_size) == ("from_file.db", 5, 50)
    s = load_settings({"jobs": 7, "catalog": None}, environ={"ARCHIVE_CONFIG": str(toml)})
    assert (s.catalog, s.jobs) == ("from_file.db", 7)
    assert load_settings({}, environ={}).catalog == "catalog.db"


@pytest.mark.parametrize("content, message", [
    ("nonsense = 1\n", "unknown setting 'nonsense'"),
    ("jobs = \"many\"\n", "not a valid int"),
    ("jobs = [\n", "not valid TOML"),
])
def test_bad_config_file(tmp_path: Path, content, message):
    toml = tmp_path / "archive.toml"
    toml.write_text(content)
    with pytest.raises(UsageError, match=message):
        load_settings({}, environ={}, config_file=toml)


def test_catalog_url_and_paths(tmp_path: Path):
    s = load_settings({"catalog": str(tmp_path / "c.db")}, environ={})
    assert s.catalog_url == f"sqlite:///{tmp_path}/c.db"
    assert s.index_dir == tmp_path / "c.db.index"
    assert s.derivatives_dir == tmp_path / "c.db.derivatives"
    pg = load_settings({"catalog": "postgresql+psycopg://u@h/db"}, environ={})
    assert pg.catalog_url == "postgresql+psycopg://u@h/db" and not pg.is_sqlite


def test_catalog_in_missing_folder(tmp_path: Path):
    with pytest.raises(CatalogError, match="does not exist; create it or pass --catalog"):
        Catalog.open(load_settings({"catalog": str(tmp_path / "no" / "c.db")}, environ={}))


def test_sqlite_pragmas(tmp_path: Path):
    from sqlalchemy import text
    catalog = Catalog.open(load_settings({"catalog": str(tmp_path / "c.db")}, environ={}))
    with catalog.engine.connect() as con:
        assert con.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert con.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert con.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def _imports(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((str(path.relative_to(ROOT)), node.module.split(".")[0] + "." +
                           (node.module.split(".") + [""])[1]))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    found.add((str(path.relative_to(ROOT)), alias.name))
    return found


def test_layers_import_only_downwards():
    project = ("archive", "ingest", "search", "media")
    media = {(f, m) for f, m in _imports("media") if m.split(".")[0] in project
             and not m.startswith("media")}
    assert media == set(), "media/ must import nothing from the project"
    ingest_cli = {(f, m) for f, m in _imports("ingest") if m.startswith("archive.cli")}
    assert ingest_cli == set()
    core = {(f, m) for f, m in _imports("archive") if m.split(".")[0] == "ingest"
            and not f.startswith("archive/cli")}
    assert core == set(), "the catalog core must not import ingest/"
    site = {(f, m) for f, m in _imports("web") if m.split(".")[0] in ("ingest", "media")
            or m.startswith("archive.cli")}
    assert site == set(), "the read-only site must not import ingest/, media/ or the CLI"


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in group.commands.items():
        out.append((prefix + name, cmd))
        if isinstance(cmd, click.Group):
            out += _commands(cmd, prefix + name + " ")
    return out


def test_every_command_has_help_and_is_in_the_readme():
    readme = (ROOT / "README.md").read_text("utf-8")
    for name, cmd in _commands(main):
        assert (cmd.help or "").strip(), f"`archive {name}` has no help text"
        assert f"archive {name}" in readme, f"README does not document `archive {name}`"
        for param in cmd.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert param.help, f"`archive {name} {param.opts[0]}` has no help text"


def test_readme_opens_with_the_two_commands_and_documents_export_keys():
    readme = (ROOT / "README.md").read_text("utf-8")
    head = readme[:600]
    assert "make demo" in head and "make test" in head
    for key in EXPORT_KEYS:
        assert re.search(rf"`{key}`", readme), f"export key {key} is not in the README"


ENGINE_HOMES = {"whoosh": "search/engines/whoosh/", "tantivy": "search/engines/tantivy.py"}


@pytest.mark.parametrize("engine", sorted(ENGINE_HOMES))
def test_each_engine_is_imported_only_by_its_own_module(engine: str):
    """Only search/engines/whoosh/ imports Whoosh and only search/engines/tantivy.py imports
    tantivy (#14): the analysis, query tree, snippets and filters stay engine-free."""
    home = ENGINE_HOMES[engine]
    importers = {f for package in ("archive", "ingest", "media", "search", "web", "benchmarks")
                 for f, m in _imports(package) if m.split(".")[0] == engine}
    assert importers and all(f.startswith(home) for f in importers), importers


def _imported_names(package: str) -> set[tuple[str, str]]:
    """(file, every dotted name an import statement names): `from a.b import c` gives a.b
    and a.b.c, so importing a module from its package is seen too."""
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            found |= {(str(path.relative_to(ROOT)), n) for n in names}
    return found


def test_shared_search_code_reaches_engines_only_through_the_interface():
    """search/*.py (and everything outside search/) name no engine module: they ask
    search.engines.load() for the engine the settings choose."""
    for package in ("archive", "ingest", "media", "search", "web", "benchmarks"):
        direct = {(f, m) for f, m in _imported_names(package)
                  if m.startswith(("search.engines.whoosh", "search.engines.tantivy"))
                  and not f.startswith("search/engines/")}
        assert direct == set(), direct
    ingest = {(f, m) for f, m in _imports("search") if m.split(".")[0] == "ingest"}
    assert ingest == set(), "search/ must not import ingest/"


def _catalog_error(catalog: str, *args: str) -> str:
    from click.testing import CliRunner
    result = CliRunner().invoke(main, ["--catalog", catalog, *args])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line: what is wrong and what to do
    assert "sqlalche.me" not in result.stderr and "Background on this error" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("command", [["stats"], ["ingest", "."], ["search", "x"]])
def test_a_folder_given_as_the_catalog(tmp_path: Path, command: list[str]):
    message = _catalog_error(str(tmp_path), *command)
    assert f"{tmp_path} is a folder" in message and "catalog.db" in message


@pytest.mark.parametrize("command", [["stats"], ["ingest", "."], ["show", "X-1"]])
def test_a_file_that_is_not_a_catalog(tmp_path: Path, command: list[str]):
    notes = tmp_path / "notes.db"
    notes.write_text("shopping list, not a database\n")
    message = _catalog_error(str(notes), *command)
    assert f"{notes} is not an archive catalog" in message and "not an SQLite" in message
    assert notes.read_text() == "shopping list, not a database\n"


def test_a_postgresql_url_without_its_driver():
    import importlib.util
    if importlib.util.find_spec("psycopg") is not None:
        pytest.skip("psycopg is installed here: the message for a missing driver cannot show")
    message = _catalog_error("postgresql+psycopg://archivist@localhost/archive", "stats")
    assert "psycopg" in message and "pip install 'scientists-archive[postgres]'" in message
    assert "No module named" not in message


def test_index_and_derivatives_folders_are_settings(tmp_path: Path):
    """A server catalog has no folder beside it: its index and derivatives are settings, in
    TOML, ARCHIVE_INDEX_DIR / ARCHIVE_DERIVATIVES_DIR, or overrides (#13.6)."""
    pg = "postgresql+psycopg://archivist@db/archive"
    toml = tmp_path / "archive.toml"
    toml.write_text(f'catalog = "{pg}"\nindex_dir = "{tmp_path / "ix"}"\n'
                    f'derivatives_dir = "{tmp_path / "thumbs"}"\n')
    s = load_settings({}, environ={}, config_file=toml)
    assert (s.index_dir, s.derivatives_dir) == (tmp_path / "ix", tmp_path / "thumbs")
    assert s.catalog_path is None
    s = load_settings({"catalog": pg}, environ={"ARCHIVE_INDEX_DIR": str(tmp_path / "i2"),
                                                "ARCHIVE_DERIVATIVES_DIR": "~/d2"})
    assert s.index_dir == tmp_path / "i2" and s.derivatives_dir == Path.home() / "d2"
    s = load_settings({"catalog": str(tmp_path / "c.db"), "index_dir": tmp_path / "elsewhere"},
                      environ={})
    assert s.index_dir == tmp_path / "elsewhere"
    assert s.derivatives_dir == tmp_path / "c.db.derivatives"  # beside the catalog by default
    assert s.catalog_path == tmp_path / "c.db"


def test_command_options_are_converted_as_settings_are():
    s = load_settings({}, environ={})
    assert s.with_options(jobs="3", file_timeout=None).jobs == 3
    assert s.with_options(file_timeout=None) == s
    with pytest.raises(UsageError, match="'jobs': 'many' is not a valid int"):
        s.with_options(jobs="many")
    with pytest.raises(UsageError, match="default_access"):
        s.with_options(default_access="secret")


def test_the_index_setting_is_used_by_ingest_and_search(tmp_path: Path, monkeypatch):
    from click.testing import CliRunner

    from benchmarks.generators.samples import make_jpeg
    make_jpeg(tmp_path / "papers" / "rocket_1956.jpg")
    monkeypatch.setenv("ARCHIVE_INDEX_DIR", str(tmp_path / "shared-index"))
    catalog = str(tmp_path / "c.db")
    runner = CliRunner()
    assert runner.invoke(main, ["--catalog", catalog, "ingest", str(tmp_path / "papers"),
                                "--quiet"]).exit_code == 0
    assert (tmp_path / "shared-index").is_dir() and not (tmp_path / "c.db.index").exists()
    result = runner.invoke(main, ["--catalog", catalog, "search", "rocket", "--json"])
    assert result.exit_code == 0 and '"total": 1' in result.stdout
