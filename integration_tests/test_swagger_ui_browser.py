"""Swagger UI in a real browser: Debian's chromium, driven by Playwright (no browser download).

The page's Content-Security-Policy refuses anything inline or from another origin; a refusal shows as a console
error, so "no console error" is the check that the page still works under it. `.ci/run` installs chromium; without
it these tests fail (never skip) and say how to install it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from integration_tests.auth_fixtures import SignedInUser
from integration_tests.conftest import Api
from integration_tests.test_tenants import new_tenant

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (sudo apt-get install -y chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    context = browser.new_context()
    # Generous: eight test runs may share this machine's two cores; a slow render is not a failure.
    context.set_default_timeout(60_000)
    opened = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text}")

    opened.on("console", on_console)
    opened.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    opened.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    yield opened, problems
    context.close()


def operation_count(document: dict[str, Any]) -> int:
    return sum(len(HTTP_METHODS & set(item)) for item in document["paths"].values())


@pytest.mark.parametrize("path", ["/docs", "/swagger"])
def test_every_operation_renders_without_a_console_error(api: Api, page: tuple[Page, list[str]], path: str) -> None:
    browser_page, problems = page
    expected = operation_count(api.get("/openapi.json").json())

    browser_page.goto(api.url(path))

    expect(browser_page.locator(".opblock")).to_have_count(expected, timeout=60_000)
    # The link under the title is the JSON document, not the page again.
    link = browser_page.locator(".info a.link, .info .url").first
    assert api.get(link.get_attribute("href") or link.inner_text()).json()["openapi"]
    assert problems == []


def test_authorize_and_try_a_protected_call(api: Api, page: tuple[Page, list[str]], user: SignedInUser) -> None:
    browser_page, problems = page
    browser_page.goto(api.url("/docs"))

    browser_page.locator("button.authorize").first.click()
    browser_page.locator(".auth-container input").first.fill(f"Bearer {user.id_token}")
    browser_page.locator(".auth-btn-wrapper button.authorize").click()
    browser_page.locator(".auth-btn-wrapper button.btn-done").click()

    operation = browser_page.locator(".opblock-post").filter(has=browser_page.locator("[data-path='/tenants']"))
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    body = operation.locator("textarea.body-param__text")
    body.fill(json.dumps(new_tenant()))
    operation.locator("button.execute").click()

    expect(operation.locator(".live-responses-table tr.response .response-col_status").first).to_have_text(
        "201", timeout=60_000
    )
    assert problems == []
