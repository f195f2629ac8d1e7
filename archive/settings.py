"""Settings: one frozen object built by one factory (defaults < TOML file < ARCHIVE_* env <
options)."""
from __future__ import annotations

import os
import re
import socket
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from archive.errors import UsageError
from archive.fields import ACCESS_LEVELS
from archive.paths import parse_root_map

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
    search_engine: str = "tantivy"  # tantivy (Rust, the default) or whoosh (pure Python)
    follow_every: float = 5.0  # seconds between `archive serve`'s index catch-ups; 0: none
    # The settings index_dir and derivatives_dir (ARCHIVE_INDEX_DIR, ARCHIVE_DERIVATIVES_DIR)
    # as given; empty means beside an SQLite catalog. The properties below give the folders.
    index_folder: str = ""
    derivatives_folder: str = ""
    admin_email: str = ""  # who answers for the site (OAI-PMH Identify); "" = postmaster@host
    # Signs the site's session cookies; "" = a key made once and kept in secret_path (below).
    secret_key: str = ""
    session_hours: float = 12.0  # a site sign-in lasts this long, however active
    # Work spread over machines (archive/claims.py): how long a claim on a batch of files
    # lasts unrenewed, so a machine that died gives its work back; and where the catalogued
    # roots are on this machine ("/srv/archive=/mnt/archive; ...", archive.paths.local_root).
    lease_seconds: float = 300.0
    root_map: str = ""

    @property
    def root_mapping(self) -> dict[str, str]:
        return parse_root_map(self.root_map)

    @property
    def admin_mailbox(self) -> str:
        """admin_email, else the RFC 2142 role mailbox of this host (looked up when asked)."""
        return self.admin_email or default_admin_email(socket.getfqdn())

    @property
    def catalog_url(self) -> str:
        if "://" in self.catalog:
            return self.catalog
        return "sqlite:///" + str(Path(self.catalog).expanduser().absolute())

    @property
    def is_sqlite(self) -> bool:
        return self.catalog_url.startswith("sqlite")

    @property
    def catalog_path(self) -> Path | None:
        """The file of an SQLite catalog; None for a database server's."""
        return sqlite_file(self.catalog_url)

    @property
    def worker_count(self) -> int:
        return self.jobs if self.jobs > 0 else (os.cpu_count() or 1)

    def _folder(self, given: str, suffix: str) -> Path:
        if given:
            return Path(given).expanduser().absolute()
        if self.catalog_path is not None:
            return Path(str(self.catalog_path) + suffix)
        # A server catalog has no folder of its own: set index_dir and derivatives_dir for it.
        return Path.cwd() / ("catalog" + suffix)

    @property
    def index_dir(self) -> Path:
        return self._folder(self.index_folder, ".index")

    @property
    def derivatives_dir(self) -> Path:
        return self._folder(self.derivatives_folder, ".derivatives")

    @property
    def secret_path(self) -> Path:
        """Where the site keeps the key it made when `secret_key` is not set: beside an SQLite
        catalog (`<catalog>.secret`, readable by its owner only)."""
        return self._folder("", ".secret")

    def with_options(self, **options: Any) -> Settings:
        """These settings with command options applied, converted and checked as
        load_settings does; options left unset (None) change nothing."""
        return _checked(replace(self, **_coerced({k: v for k, v in options.items()
                                                 if v is not None})))


def sqlite_file(url: str) -> Path | None:
    """The file an SQLite URL names; None for any other database.

        sqlite_file("sqlite:////data/catalog.db")          -> Path("/data/catalog.db")
        sqlite_file("postgresql+psycopg://u@host/archive") -> None
    """
    if not url.startswith("sqlite:///"):
        return None
    return Path(url.removeprefix("sqlite:///"))


_ENV_PREFIX = "ARCHIVE_"
EMAIL = re.compile(r"\S+@(\S+\.)+\S+")  # OAI-PMH's emailType: what harvesters accept


def default_admin_email(fqdn: str) -> str:
    """The postmaster of a host (RFC 2142); a name with no domain gets `.localdomain` so the
    address is still one OAI-PMH accepts (`archive serve` warns to set admin_email then).

    default_admin_email("archive.example.org") -> "postmaster@archive.example.org"
    default_admin_email("localhost")           -> "postmaster@localhost.localdomain"
    """
    host = fqdn.strip(".") or "localhost"
    return f"postmaster@{host}" if "." in host else f"postmaster@{host}.localdomain"


# Settings whose public name (TOML key, ARCHIVE_* variable) is not the field that holds them.
_FIELD_OF = {"index_dir": "index_folder", "derivatives_dir": "derivatives_folder"}
_NAME_OF = {field: name for name, field in _FIELD_OF.items()}
_TYPES: dict[str, type] = {"str": str, "int": int, "float": float}


def setting_names() -> list[str]:
    """Every setting's public name, as a TOML key or (upper-cased) after ARCHIVE_."""
    return [_NAME_OF.get(f.name, f.name) for f in fields(Settings)]


def _coerce(name: str, value: Any, kind: type) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise UsageError(f"setting {name!r}: {value!r} is not a valid {kind.__name__}") from None


def _coerced(values: Mapping[str, Any]) -> dict[str, Any]:
    """Public names and raw values (TOML, environment, options) -> fields and typed values."""
    kinds = {f.name: str(f.type) for f in fields(Settings)}
    out: dict[str, Any] = {}
    for name, value in values.items():
        field = _FIELD_OF.get(name, name)
        if field not in kinds:
            raise UsageError(f"unknown setting {name!r}")
        kind = _TYPES[kinds[field]]
        if field == "root_map" and isinstance(value, Mapping):  # a TOML table
            value = "; ".join(f"{k}={v}" for k, v in value.items())
        out[field] = str(value) if kind is str and isinstance(value, os.PathLike) \
            else _coerce(name, value, kind)
    return out


def _checked(settings: Settings) -> Settings:
    if settings.search_engine not in SEARCH_ENGINES:
        raise UsageError(f"search_engine must be one of {', '.join(SEARCH_ENGINES)} "
                         f"(got {settings.search_engine!r})")
    if settings.default_access not in ACCESS_LEVELS:
        raise UsageError("default_access must be open, restricted or closed")
    if settings.session_hours <= 0:
        raise UsageError(f"session_hours must be more than 0 (got {settings.session_hours})")
    if settings.lease_seconds < 1:
        raise UsageError("lease_seconds must be at least 1")
    try:
        parse_root_map(settings.root_map)
    except ValueError as exc:
        raise UsageError(f"root_map: {exc}") from None
    if settings.admin_email and not EMAIL.fullmatch(settings.admin_email):
        raise UsageError(f"admin_email {settings.admin_email!r} is not an e-mail address "
                         "(name@host.domain)")
    return settings


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
    names = setting_names()
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
            if key not in names:
                raise UsageError(f"config file {config_file}: unknown setting {key!r}")
            values[key] = value
    for key in names:
        env_value = environ.get(_ENV_PREFIX + key.upper())
        if env_value not in (None, ""):
            values[key] = env_value
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value

    return _checked(replace(Settings(), **_coerced(values)))
