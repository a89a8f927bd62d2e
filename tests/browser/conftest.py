"""Headless Chromium from Debian (/usr/bin/chromium) driven by Playwright
against pytest-django's live_server. Playwright's own browser downloads are
never used: there is no network, and the test command installs Debian's."""
import os
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

def screenshot_dir() -> Path:
    """Printed by scripts/test.sh at the end of `make test`."""
    return Path(os.environ.get("ARTIFACTS_DIR") or settings.VAR_DIR / "artifacts") / "screenshots"


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API keeps an event loop in the test thread, which makes
    # Django refuse every ORM call (fixtures included) while it runs; those
    # calls are still plain synchronous ones.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def screenshot(page):
    folder = screenshot_dir()
    folder.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
    return take
