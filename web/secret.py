"""The key that signs the site's session cookies: the `secret_key` setting when given, else a
random key made once and kept in a file readable by its owner only (`<catalog>.secret` beside an
SQLite catalog, see Settings.secret_path), so sessions survive a restart and every server
process started on the same catalog shares it. Never in the catalog itself: whoever may read
the catalog (a published copy, a backup) could otherwise forge any session."""
from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from archive.errors import CatalogError
from archive.settings import Settings

KEY_BYTES = 32


def site_secret(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    return _kept_key(settings.secret_path)


def _kept_key(path: Path) -> str:
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(KEY_BYTES)
    tmp = None
    try:
        # Written whole under another name, then linked into place: two servers starting at
        # once make one key (the second link fails and that one reads the first's), and none
        # ever reads a half-written file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".part")
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key + "\n")
        os.link(tmp, path)
    except FileExistsError:
        return _read(path)
    except OSError as exc:
        raise CatalogError(f"cannot keep the site's session key in {path} ({exc.strerror}); "
                           "set secret_key (ARCHIVE_SECRET_KEY) or make the folder "
                           "writable") from None
    finally:
        if tmp is not None:
            os.unlink(tmp)
    return key


def _read(path: Path) -> str:
    try:
        key = path.read_text("ascii").strip()
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"cannot read the site's session key {path} ({exc}); remove it "
                           "to have a new one made (everyone is signed out)") from None
    if len(key) < 32:
        raise CatalogError(f"the site's session key {path} is too short; remove it to have "
                           "a new one made (everyone is signed out)")
    return key
