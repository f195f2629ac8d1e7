"""Who sees what on the site, per role, on every surface: a restricted letter (canary 绝密) and a
closed photograph (canary 封存) in the demo collection. Anonymous visitors and researchers
without a grant never see either; a researcher granted the letter sees it and nothing more;
staff see the letter, never the photograph; administrators see both. And the sessions' safety:
CSRF tokens, a new session id at sign-in, the slowed tenth failed sign-in, `next=` kept on this
site, disabled accounts, cookie flags."""
from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from archive.accounts import failure_delay
from archive.catalog import Catalog
from archive.cli import main
from archive.models import AccessRequest, File, Item, User, utcnow
from archive.settings import load_settings
from archive.standards.iiif import image_id
from web.app import create_app
from web.auth import safe_next
from tests.catalogs import catalog_env, catalog_settings, catalog_url
from tests.sites import private_site

PASSWORD = "correct horse battery"
RESTRICTED, CLOSED = "绝密", "封存"  # the canaries: in the titles and descriptions
ROLES = {"anna": "researcher", "ben": "researcher", "sue": "staff", "adam": "admin",
         "victim": "researcher", "dora": "researcher", "pat": "researcher"}


@dataclass
class Held:
    accession: str
    path: str
    image: str  # IIIF image id of its photograph


@dataclass
class Vault:
    app: Flask
    catalog: Path
    restricted: Held
    closed: Held
    public: Held

    def cli(self, *args: str, input: str | None = None) -> Any:
        return CliRunner().invoke(main, ["--catalog", catalog_url(self.catalog), *args],
                                  input=input, env=catalog_env(self.catalog),
                                  catch_exceptions=False)


@pytest.fixture(scope="module")
def vault(demo_site, tmp_path_factory) -> Vault:
    catalog = private_site(demo_site[1], tmp_path_factory.mktemp("vault") / "catalog.db",
                           ROLES, PASSWORD)
    settings = catalog_settings(catalog)
    cat = Catalog.open(settings)
    with cat.session() as s:
        def held(title: str) -> Held:
            item = s.scalars(select(Item).where(Item.title == title)).one()
            f = s.scalars(select(File).where(File.item_id == item.id)).first()
            assert f is not None and f.sha256
            return Held(item.accession, f.path, image_id(item.accession, f.sha256))
        restricted, closed = held("绝密信件"), held("封存照片")
        photo = s.scalars(select(Item).join(File).where(
            Item.access == "open", File.mime == "image/jpeg")).first()
        assert photo is not None
        f = next(f for f in photo.files if f.mime == "image/jpeg")
        public = Held(photo.accession, f.path, image_id(photo.accession, f.sha256 or ""))
        anna = s.scalars(select(User).where(User.name == "anna")).one()
        # The grant, made directly (staff-requests' forms and commands make them otherwise).
        s.add(AccessRequest(user_id=anna.id, item_id=s.scalars(select(Item.id).where(
            Item.accession == restricted.accession)).one(), reason="thesis", status="approved",
            decided_at=utcnow(), decided_by="sue", expires_at=utcnow() + dt.timedelta(days=30)))
    cat.close()
    for args in (["exhibit", "create", "vault", "--title", "库房"],
                 ["exhibit", "add", "vault", restricted.accession, closed.accession,
                  public.accession]):
        r = CliRunner().invoke(main, ["--catalog", catalog_url(catalog), *args],
                               env=catalog_env(catalog))
        assert r.exit_code == 0, r.output
    app = create_app(settings)
    app.testing = True
    return Vault(app, catalog, restricted, closed, public)


def token(page: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert m, "no CSRF token in the form"
    return m.group(1)


def sign_in(client: Any, name: str, password: str = PASSWORD, next_: str = "/") -> Any:
    form = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"name": name, "password": password, "next": next_,
                                       "csrf_token": token(form)})


def client_for(vault: Vault, who: str | None) -> Any:
    client = vault.app.test_client()
    if who is not None:
        r = sign_in(client, who)
        assert r.status_code == 302, r.get_data(as_text=True)
    return client


def session_of(vault: Vault, client: Any) -> dict[str, Any]:
    cookie = client.get_cookie("archive_session")
    assert cookie is not None
    data: dict[str, Any] = vault.app.session_interface.get_signing_serializer(  # type: ignore[attr-defined]
        vault.app).loads(cookie.value)
    return data


# -- who sees what -----------------------------------------------------------------------------

# (restricted visible, closed visible) per viewer
SEES = {None: (False, False), "ben": (False, False), "anna": (True, False),
        "sue": (True, False), "adam": (True, True)}


HIS = {None: 6, "ben": 6, "anna": 7, "sue": 8, "adam": 9}  # 钱学森's items each one sees


def _surfaces(vault: Vault, held: Held) -> dict[str, str]:
    acc = held.accession
    return {
        "page": f"/items/{acc}",
        "file": f"/items/{acc}/files/{held.path}",
        "derivative": f"/items/{acc}/files/{held.path}?as=thumbnail",
        "manifest": f"/items/{acc}/manifest.json",
        "iiif info": f"/iiif/{held.image}/info.json",
        "iiif image": f"/iiif/{held.image}/full/max/0/default.jpg",
    }


@pytest.mark.parametrize("who", list(SEES))
def test_item_pages_files_derivatives_and_iiif_follow_the_role(vault, who) -> None:
    client = client_for(vault, who)
    for held, visible in zip((vault.restricted, vault.closed), SEES[who], strict=True):
        for surface, url in _surfaces(vault, held).items():
            r = client.get(url)
            assert r.status_code == (200 if visible else 404), (who, surface, url)
            if not visible:
                body = r.get_data(as_text=True)
                assert RESTRICTED not in body and CLOSED not in body, (who, surface)
    for surface, url in _surfaces(vault, vault.public).items():
        assert client.get(url).status_code == 200, (who, surface)


@pytest.mark.parametrize("who", list(SEES))
def test_exhibits_and_scientist_pages_follow_the_role(vault, who) -> None:
    client = client_for(vault, who)
    sees_restricted, sees_closed = SEES[who]
    exhibit = client.get("/exhibits/vault").get_data(as_text=True)
    manifest = client.get("/exhibits/vault/manifest.json").get_data(as_text=True)
    for body in (exhibit, manifest):
        assert (RESTRICTED in body) == sees_restricted, who
        assert (CLOSED in body) == sees_closed, who
        assert (vault.restricted.accession in body) == sees_restricted, who
        assert (vault.closed.accession in body) == sees_closed, who
    # His 9 items: 6 open, a restricted manuscript, the restricted letter, the closed photo.
    count = HIS[who]
    scientist = client.get("/scientists/钱学森").get_data(as_text=True)
    assert f"馆藏 Holdings · {count}" in scientist, who
    assert (RESTRICTED in scientist) == sees_restricted and (CLOSED in scientist) == sees_closed
    listing = client.get("/scientists/").get_data(as_text=True)
    assert re.search(rf">钱学森</a> <span class=\"small\">[^<]*· {count}</span>", listing), who


def test_a_grant_is_for_its_researcher_and_its_item_only_and_ends(vault) -> None:
    anna, ben = client_for(vault, "anna"), client_for(vault, "ben")
    url = f"/items/{vault.restricted.accession}"
    assert anna.get(url).status_code == 200 and ben.get(url).status_code == 404
    cat = Catalog.open(catalog_settings(vault.catalog))
    with cat.session() as s:
        grant = s.scalars(select(AccessRequest)).one()
        kept = grant.expires_at
        grant.expires_at = utcnow() - dt.timedelta(seconds=1)
    try:
        assert anna.get(url).status_code == 404  # at once: grants are read every request
    finally:
        with cat.session() as s:
            s.scalars(select(AccessRequest)).one().expires_at = kept
        cat.close()
    assert anna.get(url).status_code == 200


def test_signed_in_pages_are_never_kept_by_shared_caches(vault) -> None:
    staff = client_for(vault, "sue")
    held = vault.restricted
    for url in _surfaces(vault, held).values():
        r = staff.get(url)
        assert r.headers["Cache-Control"] == "private, no-store", url
    anonymous = vault.app.test_client()
    r = anonymous.get(f"/items/{vault.public.accession}/files/{vault.public.path}")
    assert "public" in r.headers["Cache-Control"]


# -- signing in ----------------------------------------------------------------------------------

def test_sign_in_account_page_and_sign_out(vault) -> None:
    client = vault.app.test_client()
    away = client.get("/account")
    assert away.status_code == 302 and "/login?next=/account" in away.headers["Location"]
    r = sign_in(client, "sue", next_="/account")
    assert r.status_code == 302 and r.headers["Location"] == "/account"
    page = client.get("/account").get_data(as_text=True)
    assert "sue" in page and "staff" in page and "开放和受限" in page
    home = client.get("/scientists/").get_data(as_text=True)
    out = client.post("/logout", data={"csrf_token": token(home)})
    assert out.status_code == 302
    assert client.get("/account").status_code == 302
    assert client.get(f"/items/{vault.restricted.accession}").status_code == 404


def test_wrong_password_and_unknown_name_are_answered_alike(vault) -> None:
    client = vault.app.test_client()
    wrong = sign_in(client, "pat", "not the password")
    unknown = sign_in(client, "nobody-at-all", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "The name or password is not right" in wrong.get_data(as_text=True)
    assert "The name or password is not right" in unknown.get_data(as_text=True)
    assert sign_in(client, "pat").status_code == 302  # and the count starts again


def test_a_post_without_the_csrf_token_is_refused(vault) -> None:
    client = vault.app.test_client()
    client.get("/login")  # the session now has a token; the forged form does not send it
    r = client.post("/login", data={"name": "sue", "password": PASSWORD})
    assert r.status_code == 400 and "expired" in r.get_data(as_text=True)
    r = client.post("/login", data={"name": "sue", "password": PASSWORD,
                                    "csrf_token": "forged"})
    assert r.status_code == 400
    signed = client_for(vault, "sue")
    for url, form in (("/logout", {}),
                      ("/account/password", {"current": PASSWORD, "new": "x" * 12,
                                             "again": "x" * 12})):
        assert signed.post(url, data=form).status_code == 400, url
    assert signed.get("/account").status_code == 200  # still signed in, password unchanged
    # OAI-PMH's POST is a harvester's read, not a form: no token needed.
    assert vault.app.test_client().post("/oai", data={"verb": "Identify"}).status_code == 200


def test_the_session_id_changes_at_sign_in(vault) -> None:
    client = vault.app.test_client()
    client.get("/login")
    before = session_of(vault, client)
    assert "uid" not in before and before["sid"] and before["csrf"]
    sign_in(client, "sue")
    after = session_of(vault, client)
    assert after["uid"] and after["sid"] != before["sid"] and after["csrf"] != before["csrf"]


def test_the_tenth_failed_sign_in_is_slowed_then_the_account_locks(vault, monkeypatch) -> None:
    unit = 0.05
    monkeypatch.setitem(vault.app.config, "LOGIN_DELAY_UNIT", unit)
    client = vault.app.test_client()
    form = token(client.get("/login").get_data(as_text=True))
    took = []
    for _ in range(10):
        started = time.monotonic()
        r = client.post("/login", data={"name": "victim", "password": "guess",
                                        "csrf_token": form})
        took.append(time.monotonic() - started)
    assert took[9] >= failure_delay(10, unit) > failure_delay(2, unit) == 0
    assert r.status_code == 429 and "locked until" in r.get_data(as_text=True)
    # Locked: the right password does not open it either, until an administrator enables it.
    right = client.post("/login", data={"name": "victim", "password": PASSWORD,
                                        "csrf_token": form})
    assert right.status_code == 429
    assert vault.cli("users", "enable", "victim").exit_code == 0
    assert sign_in(client, "victim").status_code == 302


@pytest.mark.parametrize("target", [
    "//evil.example", "//evil.example/items", "https://evil.example/", "http:evil.example",
    "/\\evil.example", "\\\\evil.example", "javascript:alert(1)", "evil.example", "/\t/evil",
    "", "///evil.example",
])
def test_next_never_leaves_the_site(vault, target) -> None:
    assert safe_next(target) == "/"
    r = sign_in(vault.app.test_client(), "sue", next_=target)
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_next_keeps_paths_on_the_site() -> None:
    assert safe_next("/items/QXS-L-00001?t=5") == "/items/QXS-L-00001?t=5"
    assert safe_next("/search?q=%E5%AF%BC") == "/search?q=%E5%AF%BC"


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(vault) -> None:
    dora = client_for(vault, "dora")
    assert dora.get("/account").status_code == 200
    assert vault.cli("users", "disable", "dora").exit_code == 0
    try:
        assert dora.get("/account").status_code == 302  # the open session ended
        assert sign_in(vault.app.test_client(), "dora").status_code == 401
    finally:
        vault.cli("users", "enable", "dora")


def test_changing_the_password_ends_the_other_sessions(vault) -> None:
    here, there = client_for(vault, "pat"), client_for(vault, "pat")
    page = here.get("/account").get_data(as_text=True)
    new = "a new and longer password"
    mismatch = here.post("/account/password", data={
        "csrf_token": token(page), "current": PASSWORD, "new": new, "again": new + "!"})
    assert mismatch.status_code == 400
    wrong = here.post("/account/password", data={
        "csrf_token": token(page), "current": "not it", "new": new, "again": new})
    assert wrong.status_code == 400
    r = here.post("/account/password", data={
        "csrf_token": token(page), "current": PASSWORD, "new": new, "again": new})
    assert r.status_code == 302
    assert "Password changed" in here.get("/account").get_data(as_text=True)
    assert there.get("/account").status_code == 302  # signed out by the change
    assert sign_in(vault.app.test_client(), "pat", new).status_code == 302
    assert vault.cli("users", "passwd", "pat", "--password-stdin",
                     input=PASSWORD + "\n").exit_code == 0


def test_session_cookie_flags_and_expiry(vault) -> None:
    plain = vault.app.test_client()
    sign_in(plain, "sue")
    cookie = plain.get_cookie("archive_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert not cookie.secure and cookie.expires is not None
    secure = vault.app.test_client()
    form = secure.get("/login", base_url="https://localhost").get_data(as_text=True)
    secure.post("/login", base_url="https://localhost", data={
        "name": "sue", "password": PASSWORD, "next": "/", "csrf_token": token(form)})
    assert secure.get_cookie("archive_session", domain="localhost").secure
    # A sign-in older than session_hours is over, however the cookie came back.
    with plain.session_transaction() as session:
        session["at"] = int(time.time()) - 13 * 3600
    assert plain.get("/account").status_code == 302


@pytest.mark.sqlite_only("a published copy is a catalog file made read-only")
def test_a_published_copy_has_no_sign_in(demo_site, tmp_path) -> None:
    copy = private_site(demo_site[1], tmp_path / "catalog.db")
    copy.chmod(0o444)
    try:
        app = create_app(catalog_settings(copy))
        r = app.test_client().get("/login")
        assert r.status_code == 503 and "published copy" in r.get_data(as_text=True)
        assert not Path(str(copy) + ".secret").exists()
    finally:
        copy.chmod(0o644)


@pytest.mark.sqlite_only("the key file is kept beside an SQLite catalog")
def test_the_session_key_is_made_once_and_kept_private(vault) -> None:
    key = Path(str(vault.catalog) + ".secret")
    assert key.stat().st_mode & 0o777 == 0o600
    again = create_app(catalog_settings(vault.catalog))
    assert again.secret_key == vault.app.secret_key
    given = create_app(load_settings({"catalog": str(vault.catalog)},
                                     environ={"ARCHIVE_SECRET_KEY": "k" * 40}))
    assert given.secret_key == "k" * 40


# -- search: totals, facets, snippets, the API ---------------------------------------------------

@pytest.mark.parametrize("who", list(SEES))
def test_search_totals_facets_snippets_and_api_follow_the_role(vault, who) -> None:
    client = client_for(vault, who)
    sees_restricted, sees_closed = SEES[who]
    # Everything each one may see: the 14 public items of the demo, and what the role adds.
    everything = 14 + HIS[who] - 6
    page = client.get("/search").get_data(as_text=True)
    assert f"共 <strong>{everything}</strong> 条结果" in page, who
    api = client.get("/api/search?limit=100&facets=1").get_json()
    assert api["total"] == everything and len(api["hits"]) == everything, who
    assert sum(api["facets"]["type"].values()) == everything, who
    accessions = {h["accession"] for h in api["hits"]}
    assert (vault.restricted.accession in accessions) == sees_restricted, who
    assert (vault.closed.accession in accessions) == sees_closed, who
    for canary, sees in ((RESTRICTED, sees_restricted), (CLOSED, sees_closed)):
        found = client.get(f"/api/search?q={canary}&facets=1").get_json()
        assert (found["total"] > 0) == sees, (who, canary)
        snippets = " ".join(h["snippet"] for h in found["hits"])
        assert (canary in snippets) == sees, (who, canary)
        assert (sum(found["facets"]["type"].values()) > 0) == sees, (who, canary)
        html = client.get(f"/search?q={canary}").get_data(as_text=True)
        assert (f"<mark>{canary}</mark>" in html) == sees, (who, canary)
    # 导弹 is in the restricted letter's description too: its snippet only for those who see it.
    missiles = client.get("/api/search?q=导弹&limit=100").get_json()
    assert any(RESTRICTED in h["snippet"] or RESTRICTED in h["title"]
               for h in missiles["hits"]) == sees_restricted, who


@pytest.mark.parametrize("engine", ["whoosh", pytest.param("tantivy", marks=pytest.mark.skipif(
    __import__("importlib").util.find_spec("tantivy") is None, reason="tantivy not installed"))])
def test_both_engines_filter_as_the_catalog_rule_does(vault, tmp_path, engine) -> None:
    """For every kind of viewer, the items a search finds are exactly those the SQL rule
    (archive.access.visible_items) lets them see, sealed items whose day has come included."""
    from archive.access import ANONYMOUS, Viewer, visible_items
    from search.searcher import SearchOptions, SearchService
    catalog = private_site(vault.catalog, tmp_path / "catalog.db")
    # The restricted letter's seal ran out yesterday: open to all, with no reindex needed.
    run = CliRunner().invoke(main, ["--catalog", catalog_url(catalog), "edit",
                                    vault.restricted.accession, "--access-until", "2020-01-01"],
                             env=catalog_env(catalog), catch_exceptions=False)
    assert run.exit_code == 0, run.output
    env = {"ARCHIVE_SEARCH_ENGINE": engine, "ARCHIVE_INDEX_DIR": str(tmp_path / "index")}
    run = CliRunner().invoke(main, ["--catalog", catalog_url(catalog), "reindex"],
                             env={**catalog_env(catalog), **env}, catch_exceptions=False)
    assert run.exit_code == 0, run.output
    settings = catalog_settings(catalog, search_engine=engine, index_dir=str(tmp_path / "index"))
    cat = Catalog.open(settings)
    with cat.session() as s:
        ids = dict(s.execute(select(Item.accession, Item.id)).all())
        manuscript = s.scalars(select(Item.accession).where(
            Item.access == "restricted", Item.title != "绝密信件")).first()
        assert manuscript is not None
    viewers = [ANONYMOUS, Viewer("r", "researcher"),
               Viewer("g", "researcher", frozenset({ids[manuscript]})),
               Viewer("c", "researcher", frozenset({ids[vault.closed.accession]})),
               Viewer("s", "staff"), Viewer("a", "admin")]
    with SearchService(cat, writable=True) as service:
        for viewer in viewers:
            with cat.session() as s:
                expected = set(s.scalars(select(Item.accession).where(visible_items(viewer))))
            result = service.search(SearchOptions(limit=100, facets=True, viewer=viewer))
            assert {h["accession"] for h in result.hits} == expected, viewer
            assert result.total == len(expected) == sum(result.facets["type"].values())
        assert vault.restricted.accession in {h["accession"] for h in service.search(
            SearchOptions(limit=100)).hits}  # unsealed
        # The CLI's --include-restricted: everything on record.
        everything = service.search(SearchOptions(limit=100, include_restricted=True))
        assert everything.total == len(ids)
    cat.close()


def test_the_search_filter_of_each_viewer() -> None:
    from archive.access import ANONYMOUS, Viewer
    from search.compile import public_only, visible_to
    day = 20260601
    assert visible_to(ANONYMOUS, day) == public_only(day)  # one filter, one cache entry
    assert visible_to(Viewer("r", "researcher"), day) == public_only(day)
    assert visible_to(Viewer("a", "admin"), day) is None
    assert visible_to(Viewer("s", "staff"), day) != public_only(day)
    granted = visible_to(Viewer("r", "researcher", frozenset({3, 7})), day)
    assert granted != visible_to(Viewer("r", "researcher", frozenset({3})), day)
    assert "item_id" in repr(granted) and "access_until" in repr(granted)


def test_oai_pmh_stays_anonymous_for_everyone(vault) -> None:
    admin = client_for(vault, "adam")
    listed = admin.get("/oai?verb=ListIdentifiers&metadataPrefix=oai_dc").get_data(as_text=True)
    assert vault.public.accession in listed
    assert vault.restricted.accession not in listed and vault.closed.accession not in listed
    from archive.standards.oai import identifier
    record = admin.get(f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier="
                       f"{identifier(vault.restricted.accession)}").get_data(as_text=True)
    assert "idDoesNotExist" in record and RESTRICTED not in record
