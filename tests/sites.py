"""What the site's tests share: a private copy of the demo site with its accounts, a site served
by a real HTTP server on 127.0.0.1, and a real Chromium (Debian's, driven by Playwright)."""
from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archive.cli import main
from tests.catalogs import catalog_env, catalog_url, copy_catalog

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed "
                                    "(apt-get install chromium); .ci/run installs it")
# As the machine's notes advise for a closed network: no background connections to refuse.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required"]


def private_site(source: Path, target: Path, users: dict[str, str] | None = None,
                 password: str = "") -> Path:
    """A private copy of a site's catalog, index and derivatives (the originals stay where
    they are), with `users` (name -> role) added with `password`, so one module's accounts,
    requests and exhibits touch no other module's site."""
    copy_catalog(source, target)
    for suffix in (".index", ".derivatives"):
        shutil.copytree(str(source) + suffix, str(target) + suffix)
    for name, role in (users or {}).items():
        r = CliRunner().invoke(main, ["--catalog", catalog_url(target), "users", "add", name,
                                      "--role", role, "--password-stdin"], input=password + "\n",
                               env=catalog_env(target))
        assert r.exit_code == 0, r.output
    return target


@contextmanager
def served(app: Any) -> Iterator[str]:
    """The site served by a real threaded HTTP server; yields its base URL."""
    from werkzeug.serving import make_server
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium; the caller skips first when CHROMIUM is None."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()
