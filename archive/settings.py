"""Settings: one frozen object built by one factory (defaults < TOML file < ARCHIVE_* env <
options)."""
from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from archive.errors import UsageError
from archive.fields import ACCESS_LEVELS

DEFAULT_CATALOG = "catalog.db"
SEARCH_ENGINES = ("whoosh", "tantivy")


@dataclass(frozen=True)
class Settings:
    catalog: str = DEFAULT_CATALOG  # a path to an SQLite file, or a SQLAlchemy URL
    jobs: int = 0  # extraction worker processes; 0 means one per core
    file_timeout: float = 120.0  # seconds one file may take in a worker before it is given up
    worker_memory_mb: int = 2048  # a worker's address-space cap; a parser past it fails one file
    batch_size: int = 200  # records per writer commit: the most a kill can make a re-run redo
    default_access: str = "open"
    max_text_chars: int = 2_000_000  # extracted text kept per file
    lock_wait: float = 0.0  # seconds a second ingest waits for the writer lock before giving up
    index_wait: float = 120.0  # seconds a writer of the search index waits for another one
    search_engine: str = "whoosh"  # whoosh (pure Python) or tantivy (search/engines/)

    @property
    def catalog_url(self) -> str:
        if "://" in self.catalog:
            return self.catalog
        return "sqlite:///" + str(Path(self.catalog).expanduser().absolute())

    @property
    def is_sqlite(self) -> bool:
        return self.catalog_url.startswith("sqlite")

    @property
    def worker_count(self) -> int:
        return self.jobs if self.jobs > 0 else (os.cpu_count() or 1)

    def _beside_catalog(self, suffix: str) -> Path:
        if self.is_sqlite:
            return Path(self.catalog_url.removeprefix("sqlite:///") + suffix)
        return Path.cwd() / ("catalog" + suffix)

    @property
    def index_dir(self) -> Path:
        return self._beside_catalog(".index")

    @property
    def derivatives_dir(self) -> Path:
        return self._beside_catalog(".derivatives")


_ENV_PREFIX = "ARCHIVE_"


def _coerce(name: str, value: Any, kind: type) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise UsageError(f"setting {name!r}: {value!r} is not a valid {kind.__name__}") from None


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: str | os.PathLike[str] | None = None,
) -> Settings:
    """Build settings from defaults, then a TOML file, then ARCHIVE_* variables, then overrides.

    The TOML file is `config_file`, else $ARCHIVE_CONFIG, else none. Overrides whose value is
    None are ignored, so CLI options left unset do not clobber the layers below them.
    """
    environ = os.environ if environ is None else environ
    kinds = {f.name: f.type for f in fields(Settings)}
    types = {"str": str, "int": int, "float": float}
    values: dict[str, Any] = {}

    config_file = config_file or environ.get(_ENV_PREFIX + "CONFIG")
    if config_file:
        try:
            with open(config_file, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise UsageError(f"cannot read config file {config_file}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"config file {config_file} is not valid TOML: {exc}") from None
        for key, value in data.items():
            if key not in kinds:
                raise UsageError(f"config file {config_file}: unknown setting {key!r}")
            values[key] = value
    for key in kinds:
        env_value = environ.get(_ENV_PREFIX + key.upper())
        if env_value not in (None, ""):
            values[key] = env_value
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value

    coerced = {k: _coerce(k, v, types[str(kinds[k])]) for k, v in values.items()}
    settings = replace(Settings(), **coerced)
    if settings.search_engine not in SEARCH_ENGINES:
        raise UsageError(f"search_engine must be one of {', '.join(SEARCH_ENGINES)} "
                         f"(got {settings.search_engine!r})")
    if settings.default_access not in ACCESS_LEVELS:
        raise UsageError("default_access must be open, restricted or closed")
    return settings
