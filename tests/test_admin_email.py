"""Who answers for the site (#17 follow-up): the admin_email setting, by default the host's
postmaster (RFC 2142), is OAI-PMH Identify's adminEmail; never a placeholder."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from archive.catalog import Catalog
from archive.cli import main
from archive.errors import UsageError
from archive.settings import default_admin_email, load_settings
from tests.catalogs import catalog_settings
from tests.schemas import HAVE_SCHEMAS, assert_valid

OAI = "http://www.openarchives.org/OAI/2.0/"


def test_default_is_the_postmaster_of_the_host() -> None:
    assert default_admin_email("archive.example.org") == "postmaster@archive.example.org"
    assert default_admin_email("archive.example.org.") == "postmaster@archive.example.org"
    assert default_admin_email("localhost") == "postmaster@localhost.localdomain"
    assert load_settings(environ={}).admin_mailbox == default_admin_email(socket.getfqdn())


def test_admin_email_comes_from_toml_env_and_options(tmp_path: Path) -> None:
    config = tmp_path / "archive.toml"
    config.write_text('admin_email = "archives@nlc.example.cn"\n', encoding="utf-8")
    assert load_settings(config_file=config, environ={}).admin_mailbox == \
        "archives@nlc.example.cn"
    env = {"ARCHIVE_ADMIN_EMAIL": "oai@ias.example.org"}
    assert load_settings(config_file=config, environ=env).admin_email == "oai@ias.example.org"
    assert load_settings({"admin_email": "a@b.example"}, environ=env).admin_email == \
        "a@b.example"


@pytest.mark.parametrize("bad", ["archivist", "archivist@localhost", "a b@c.d"])
def test_an_address_harvesters_would_refuse_is_a_usage_error(bad: str) -> None:
    with pytest.raises(UsageError, match="admin_email"):
        load_settings(environ={"ARCHIVE_ADMIN_EMAIL": bad})


def test_serve_refuses_a_bad_admin_email(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--catalog", str(tmp_path / "c.db"), "serve",
                                       "--admin-email", "nobody"])
    assert result.exit_code == 2
    assert "--admin-email" in result.output


def _identify(tmp_path: Path, **overrides: str) -> etree._Element:
    from web.app import create_app
    settings = catalog_settings(tmp_path / "catalog.db", **overrides)
    Catalog.open(settings, create=True).close()
    response = create_app(settings).test_client().get("/oai?verb=Identify")
    assert response.status_code == 200
    if HAVE_SCHEMAS:
        path = tmp_path / "identify.xml"
        path.write_bytes(response.data)
        assert_valid("oai-pmh/OAI-PMH.xsd", path)
    return etree.fromstring(response.data)


def test_identify_answers_the_setting(tmp_path: Path) -> None:
    doc = _identify(tmp_path, admin_email="archives@nlc.example.cn")
    assert doc.findtext(f".//{{{OAI}}}adminEmail") == "archives@nlc.example.cn"


def test_identify_answers_the_postmaster_by_default_and_stays_valid(tmp_path: Path) -> None:
    doc = _identify(tmp_path)
    email = doc.findtext(f".//{{{OAI}}}adminEmail")
    assert email == default_admin_email(socket.getfqdn())
    assert ".invalid" not in email
