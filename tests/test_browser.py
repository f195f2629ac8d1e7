"""End to end in a real browser (Debian's Chromium driven by Playwright): search in Chinese,
narrow by a facet, open an item, play a transcript cue, open a search hit at its moment.
Screenshots of the main pages go to the test's folder, and to docs/screenshots/ when
ARCHIVE_UPDATE_SCREENSHOTS=1."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from tests.catalogs import catalog_env, catalog_url
from tests.sites import chromium, needs_chromium, served

pytestmark = needs_chromium
DOCS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def server(demo_site):
    app, catalog, _ = demo_site
    with served(app) as base:
        yield base, catalog


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    pg = context.new_page()
    yield pg
    outside = [u for u in requests if not u.startswith(server[0]) and not u.startswith("data:")]
    assert outside == [], f"the page asked for something outside the server: {outside}"
    context.close()


def player_time_near(page, seconds: float, timeout: float = 60.0) -> None:
    """Poll from Python: the site's CSP forbids the eval that wait_for_function relies on.
    The player plays on from where it was sent: anywhere from just before `seconds` to 5 s
    after (its cue lasts 7) is there, so a sample late on a busy machine still counts."""
    import time
    deadline = time.monotonic() + timeout
    player = page.locator("#player")
    while time.monotonic() < deadline:
        if -0.5 < player.evaluate("p => p.currentTime") - seconds < 5.0:
            return
        time.sleep(0.05)
    raise AssertionError(f"player did not reach {seconds} s")


def shoot(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    assert path.stat().st_size > 10_000
    if os.environ.get("ARCHIVE_UPDATE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS / path.name)


def test_search_facet_item_and_cue(page, server, tmp_path):
    base, _ = server
    page.goto(base + "/")
    page.fill("input[name=q]", "导弹")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("ol.hits li")
    assert page.locator("mark").first.inner_text() == "导弹"
    total = page.locator(".total strong").inner_text()
    shoot(page, tmp_path, "search")
    page.click("section[data-facet=type] a:has-text('audio')")
    page.wait_for_url("**type=audio**")
    assert page.locator(".total strong").inner_text() != total
    assert page.locator("ol.hits li").count() == 1
    page.click("ol.hits li a.title")
    page.wait_for_selector("#player")
    player = page.locator("#player")
    page.click(".cue[data-time='6.0']")
    player_time_near(page, 6.0)
    page.wait_for_selector(".cue.active[data-time='6.0']")  # marked at the player's next tick
    player.evaluate("p => p.pause()")
    shoot(page, tmp_path, "item")


def test_search_hit_opens_the_player_at_its_moment(page, server):
    base, _ = server
    page.goto(base + "/search?q=" + "力学研究所" + "&type=audio")
    link = page.locator("a.moment").first
    assert link.inner_text() == "▶ 00:06"
    link.click()
    player_time_near(page, 6.0)
    page.wait_for_selector(".cue.active[data-time='6.0']")  # marked at the player's next tick


def test_scientist_page_and_image_zoom(page, server, tmp_path):
    base, _ = server
    page.goto(base + "/scientists/Qian Xuesen")
    page.wait_for_selector("h1:has-text('钱学森')")
    assert "Tsien Hsue-shen" in page.inner_text(".variants")
    assert page.locator(".bars li").count() >= 4
    shoot(page, tmp_path, "scientist")
    page.click("text=致陈赓信")
    page.click(".zoomable img >> nth=0")
    page.wait_for_selector("#zoom:not([hidden])")
    page.keyboard.press("Escape")
    assert page.locator("#zoom").is_hidden()


def test_mobile_layout(browser, server, tmp_path):
    base, _ = server
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(base + "/search?q=卫星")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the search page must not scroll sideways on a phone"
    shoot(page, tmp_path, "search-mobile")
    context.close()


def test_sign_in_shows_a_restricted_item_and_sign_out_hides_it(page, server, tmp_path):
    """A staff member signs in from the item's 404 link back to it, sees the restricted letter,
    and signs out with the header's button (real cookies, the CSRF token in the form)."""
    import json

    from click.testing import CliRunner

    from archive.cli import main
    base, catalog = server
    password = "a browser's long password"
    added = CliRunner().invoke(main, ["--catalog", catalog_url(catalog), "users", "add",
                                      "browser-sue", "--role", "staff", "--password-stdin"],
                               input=password + "\n", env=catalog_env(catalog))
    assert added.exit_code == 0, added.output
    records = CliRunner().invoke(main, ["--catalog", catalog_url(catalog), "export"],
                                 env=catalog_env(catalog)).stdout
    letter = next(r["accession"] for r in map(json.loads, records.splitlines())
                  if r["path"].endswith("restricted_letter_1965.jpg"))
    assert page.goto(f"{base}/items/{letter}").status == 404
    page.goto(f"{base}/login?next=/items/{letter}")
    page.fill("input[name=name]", "browser-sue")
    page.fill("input[name=password]", "not it at all")
    page.click("form.account-form button[type=submit]")
    page.wait_for_selector("p.error")
    page.fill("input[name=password]", password)
    page.click("form.account-form button[type=submit]")
    page.wait_for_url(f"**/items/{letter}")
    assert page.locator("h1").inner_text() == "绝密信件"
    assert page.locator(".who").inner_text().startswith("browser-sue")
    cookie = next(c for c in page.context.cookies() if c["name"] == "archive_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    shoot(page, tmp_path, "signed-in")
    with page.expect_navigation():
        page.click(".who button:has-text('Sign out')")
    assert page.url == base + "/search", page.url
    assert "登录 Sign in" in page.locator(".who").inner_text()
    assert page.goto(f"{base}/items/{letter}").status == 404
