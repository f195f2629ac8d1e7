"""An access request end to end in the real Chromium (#16 Done means): a researcher signs in,
finds the restricted letter refused, asks for it; a staff member, in a second browser context
(another person's session), approves it; the researcher then sees the letter."""
from __future__ import annotations


import pytest

from test_site_access import PASSWORD, RESTRICTED
from test_site_requests import Site, site  # noqa: F401 - the fixture is used by name
from tests.sites import chromium, needs_chromium, served

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(site: Site):  # noqa: F811
    with served(site.app) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def signed_in(browser, base: str, name: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.account-form button[type=submit]")
    page.wait_for_selector(".who .role")
    return context, page


def test_request_approve_in_a_second_session_and_see(browser, server, site: Site):  # noqa: F811
    rita_context, rita = signed_in(browser, server, "rita")
    sue_context, sue = signed_in(browser, server, "sue")
    try:
        rita.goto(f"{server}/items/{site.restricted}")
        assert RESTRICTED not in rita.content()
        rita.click("p.ask a")
        rita.fill("textarea[name=reason]", "写博士论文需要 for my thesis")
        rita.click("form.account-form button[type=submit]")
        rita.wait_for_url("**/account#requests")
        assert rita.locator("tr[data-status=pending]").count() == 1

        sue.goto(f"{server}/staff/requests")
        row = sue.locator("li.request-row", has_text="写博士论文需要")
        row.locator("input[name=days]").fill("7")
        row.locator("input[name=note]").fill("已核实")
        row.locator("button[value=approve]").click()
        sue.wait_for_selector("p.notice")
        assert sue.locator("li.request-row", has_text="写博士论文需要").count() == 0

        rita.goto(f"{server}/items/{site.restricted}")
        assert rita.locator("h1").inner_text() == "绝密信件"
        rita.goto(f"{server}/account")
        assert rita.locator("tr[data-status=approved]").count() == 1
        assert "已核实" in rita.inner_text("table.my-requests")
    finally:
        rita_context.close()
        sue_context.close()
