"""A real browser signs in: password, then the code from the mail a real SMTP server got."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD, start_app_server, stop_app_server

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            # A phone-sized window: the pages must work there.
            context = browser.new_context(viewport={"width": 390, "height": 844})
            page = context.new_page()
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()


def test_a_user_signs_in_with_the_emailed_code_and_lands_home(
    alice, smtp_server, tmp_path, browser_page
):
    server = start_app_server(tmp_path, extra_env={"EMAIL_URL": smtp_server.url})
    page = browser_page
    try:
        page.goto(f"{server.url}/accounts/login/")
        page.get_by_label("Email address").fill(alice.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(f"{server.url}/accounts/login/code/")

        [message] = smtp_server.inbox.wait_for(alice.email)
        code = re.search(r"\b(\d{6})\b", message.get_body(("plain",)).get_content()).group(1)
        page.get_by_label("Sign-in code").fill(code)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{server.url}/")

        assert page.get_by_role("button", name="Sign out").is_visible()
        page.goto(f"{server.url}/accounts/")
        assert page.get_by_role("heading", name="Your account").is_visible()
    finally:
        stop_app_server(server)
