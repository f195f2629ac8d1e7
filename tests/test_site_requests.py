"""Access requests, sealing and the audit log on the site (#16): a researcher asks for the
restricted letter (canary 绝密) at /items/<acc>/request, staff approve or deny at
/staff/requests, the researcher sees their requests and grants on /account and the item until
the grant ends; nobody else sees the request or the item. Every view of restricted or closed
material, served or refused, is an audit row."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select, update

from archive.catalog import Catalog
from archive.cli import main
from archive.models import AccessRequest, AuditEntry, File, Item, utcnow
from archive.standards.iiif import image_id
from test_site_access import PASSWORD, RESTRICTED, sign_in, token
from web.app import create_app
from tests.catalogs import catalog_settings
from tests.sites import private_site
from tests.catalogs import catalog_env, catalog_url

USERS = {"rita": "researcher", "otto": "researcher", "sue": "staff", "adam": "admin"}


@dataclass
class Site:
    app: Flask
    catalog: Path
    restricted: str  # accession numbers
    closed: str
    open: str
    path: str  # the restricted letter's file
    image: str  # its IIIF image id

    def cli(self, *args: str) -> Any:
        return CliRunner().invoke(main, ["--catalog", catalog_url(self.catalog), *args],
                                  env=catalog_env(self.catalog), catch_exceptions=False)

    def session(self) -> Any:
        return Catalog.open(catalog_settings(self.catalog)).session()

    def audit(self, **where: Any) -> list[tuple[str | None, str, str]]:
        """(user, action, outcome) of the audit rows matching `where`, oldest first."""
        with self.session() as s:
            query = select(AuditEntry).order_by(AuditEntry.id)
            for key, value in where.items():
                query = query.where(getattr(AuditEntry, key) == value)
            return [(e.user_name, e.action, e.outcome) for e in s.scalars(query)]


@pytest.fixture(scope="module")
def site(demo_site, tmp_path_factory) -> Site:
    catalog = private_site(demo_site[1], tmp_path_factory.mktemp("requests") / "catalog.db",
                           USERS, PASSWORD)
    settings = catalog_settings(catalog)
    cat = Catalog.open(settings)
    with cat.session() as s:
        def accession(title: str) -> str:
            return s.scalars(select(Item.accession).where(Item.title == title)).one()
        restricted, closed = accession("绝密信件"), accession("封存照片")
        f = s.scalars(select(File).join(Item).where(Item.accession == restricted)).first()
        assert f is not None and f.sha256
        path, image = f.path, image_id(restricted, f.sha256)
        opened = s.scalars(select(Item.accession).where(Item.access == "open")
                           .order_by(Item.accession)).first()
    cat.close()
    app = create_app(settings)
    app.testing = True
    return Site(app, catalog, restricted, closed, opened or "", path, image)


def client_for(site: Site, who: str | None) -> Any:
    client = site.app.test_client()
    if who is not None:
        assert sign_in(client, who).status_code == 302
    return client


def ask(client: Any, accession: str, reason: str) -> Any:
    form = client.get(f"/items/{accession}/request")
    assert form.status_code == 200, form.status_code
    return client.post(f"/items/{accession}/request",
                       data={"reason": reason, "csrf_token": token(form.get_data(as_text=True))})


def decide(client: Any, request_id: int, **form: str) -> Any:
    page = client.get("/staff/requests").get_data(as_text=True)
    return client.post(f"/staff/requests/{request_id}", data={**form,
                                                              "csrf_token": token(page)})


def latest_request(site: Site, user: str) -> int:
    lines = [json.loads(x) for x in site.cli("requests", "list", "--user", user, "--json")
             .stdout.splitlines()]
    return int(lines[0]["id"])


def test_request_approve_see_expire(site: Site) -> None:
    item = f"/items/{site.restricted}"
    anonymous = client_for(site, None)
    away = anonymous.get(f"{item}/request")
    assert away.status_code == 302 and "/login?next=" in away.headers["Location"]
    rita, otto, sue = (client_for(site, x) for x in ("rita", "otto", "sue"))
    refused = rita.get(item)
    assert refused.status_code == 404 and RESTRICTED not in refused.get_data(as_text=True)
    assert f'href="{item}/request"' in refused.get_data(as_text=True)  # she may ask
    no_token = rita.post(f"{item}/request", data={"reason": "x"})
    assert no_token.status_code == 400
    sent = ask(rita, site.restricted, "博士论文需要 for my thesis")
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/account#requests")
    request_id = latest_request(site, "rita")
    account = rita.get("/account").get_data(as_text=True)
    assert 'data-status="pending"' in account and site.restricted in account
    assert RESTRICTED not in account  # the title is not hers to see yet
    # Another researcher never sees the request, cannot decide it, and does not see the item.
    assert "博士论文" not in otto.get("/account").get_data(as_text=True)
    assert otto.get("/staff/requests").status_code == 403
    form = otto.get("/account").get_data(as_text=True)
    assert otto.post(f"/staff/requests/{request_id}",
                     data={"decision": "approve", "csrf_token": token(form)}).status_code == 403
    assert rita.get("/staff/requests").status_code == 403
    # Staff see the queue with the reason, and approve it for a week.
    queue = sue.get("/staff/requests").get_data(as_text=True)
    assert "博士论文需要 for my thesis" in queue and f'data-request="{request_id}"' in queue
    approved = decide(sue, request_id, decision="approve", days="7", note="已核实")
    assert approved.status_code == 302
    with site.session() as s:
        grant = s.get(AccessRequest, request_id)
        assert (grant.status, grant.decided_by, grant.note) == ("approved", "sue", "已核实")
        assert dt.timedelta(days=6, hours=23) < grant.expires_at - utcnow() <= dt.timedelta(days=7)
    page = rita.get(item)
    assert page.status_code == 200 and RESTRICTED in page.get_data(as_text=True)
    account = rita.get("/account").get_data(as_text=True)
    assert 'data-status="approved"' in account and RESTRICTED in account and "已核实" in account
    assert otto.get(item).status_code == 404  # the grant is hers alone
    assert rita.get(f"/items/{site.closed}").status_code == 404  # and for that item only
    # The grant ends: at once, she no longer sees the item.
    with site.session() as s:
        s.execute(update(AccessRequest).where(AccessRequest.id == request_id)
                  .values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    assert rita.get(item).status_code == 404
    assert 'data-status="expired"' in rita.get("/account").get_data(as_text=True)
    # Every step is an event on the item.
    show = json.loads(site.cli("show", site.restricted, "--json").stdout)
    kinds = [(e["kind"], e.get("agent")) for e in show["events"]
             if e["kind"].startswith("access ")]
    assert ("access request", "rita") in kinds and ("access grant", "sue") in kinds
    # The audit saw her refused, then served, then refused again.
    rows = site.audit(accession=site.restricted, user_name="rita", action="page")
    assert [r[2] for r in rows] == ["refused", "served", "refused"]


def test_deny_and_what_cannot_be_asked_for(site: Site) -> None:
    otto, sue = client_for(site, "otto"), client_for(site, "sue")
    assert ask(otto, site.restricted, "好奇 curious").status_code == 302
    again = ask(otto, site.restricted, "再问")
    assert again.status_code == 400 and "already asked" in again.get_data(as_text=True)
    request_id = latest_request(site, "otto")
    assert decide(sue, request_id, decision="deny", note="理由不足").status_code == 302
    account = otto.get("/account").get_data(as_text=True)
    assert 'data-status="denied"' in account and "理由不足" in account
    assert otto.get(f"/items/{site.restricted}").status_code == 404
    twice = decide(sue, request_id, decision="approve")
    assert twice.status_code == 400 and "already denied" in twice.get_data(as_text=True)
    bad = decide(sue, 99999, decision="approve")
    assert bad.status_code == 400 and "no access request #99999" in bad.get_data(as_text=True)
    # Closed, open and unknown items have no request form (the same 404 for each).
    for accession in (site.closed, site.open, "QXS-L-99999"):
        assert otto.get(f"/items/{accession}/request").status_code == 404
    # Staff already see it: the form sends them to the item.
    assert sue.get(f"/items/{site.restricted}/request").status_code == 302


def test_audit_rows_for_each_restricted_surface(site: Site) -> None:
    sue, anonymous, adam = (client_for(site, x) for x in ("sue", None, "adam"))
    acc = site.restricted
    surfaces = {
        "page": f"/items/{acc}", "file": f"/items/{acc}/files/{site.path}",
        "derivative": f"/items/{acc}/files/{site.path}?as=thumbnail",
        "manifest": f"/items/{acc}/manifest.json",
        "image": f"/iiif/{site.image}/full/max/0/default.jpg",
    }
    for action, url in surfaces.items():
        before = len(site.audit(accession=acc, user_name="sue", action=action))
        assert sue.get(url).status_code == 200, url
        rows = site.audit(accession=acc, user_name="sue", action=action)
        assert len(rows) == before + 1 and rows[-1] == ("sue", action, "served"), action
        assert anonymous.get(url).status_code == 404
        assert site.audit(accession=acc, user_name=None, action=action)[-1] == \
            (None, action, "refused")
    with site.session() as s:
        last = s.scalars(select(AuditEntry).where(AuditEntry.user_name == "sue")
                         .order_by(AuditEntry.id.desc())).first()
        assert last is not None and last.address == "127.0.0.1"
        assert last.path == surfaces["image"]
    assert adam.get(f"/items/{site.closed}").status_code == 200
    assert site.audit(accession=site.closed, user_name="adam") == [("adam", "page", "served")]
    # Open material is not logged.
    assert sue.get(f"/items/{site.open}").status_code == 200
    assert site.audit(accession=site.open) == []
    # A search hit of restricted material shown to staff is a snippet row; the open hits are not.
    hits = sue.get(f"/api/search?q={RESTRICTED}").get_json()["hits"]
    assert acc in [h["accession"] for h in hits]
    assert site.audit(accession=acc, user_name="sue", action="snippet") == \
        [("sue", "snippet", "served")]
    assert anonymous.get(f"/search?q={RESTRICTED}").status_code == 200
    assert site.audit(user_name=None, action="snippet") == []  # nothing restricted shown
    out = site.cli("audit", "--item", acc, "--user", "sue", "--json").stdout.splitlines()
    assert {json.loads(x)["action"] for x in out} >= set(surfaces)


def test_sealing_on_the_site(site: Site) -> None:
    anonymous, sue = client_for(site, None), client_for(site, "sue")
    assert site.cli("edit", site.open, "--access", "restricted",
                    "--access-until", "2051").exit_code == 0
    assert anonymous.get(f"/items/{site.open}").status_code == 404
    page = sue.get(f"/items/{site.open}").get_data(as_text=True)
    assert "sealed until 2051-01-01" in page
    assert site.cli("edit", site.open, "--access-until", "2020-06-30").exit_code == 0
    page = anonymous.get(f"/items/{site.open}")
    assert page.status_code == 200  # its day has come: open to all, no longer audited
    assert "open since 2020-06-30" in page.get_data(as_text=True)
    hits = anonymous.get(f"/api/search?q=accession:{site.open}").get_json()["hits"]
    assert [h["accession"] for h in hits] == [site.open]
    assert site.cli("edit", site.open, "--access", "open", "--access-until", "").exit_code == 0
