"""Steps an operator takes in the admin, as Playwright calls."""
from playwright.sync_api import Page, expect


def log_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("input[type=submit]")
    expect(page.locator("#console-overview")).to_be_visible()


def run_action(page: Page, changelist_url: str, row_text: str, action: str) -> None:
    """Tick the row, choose the action, Go; then confirm if a plain
    confirmation page (post=yes and no form fields to fill) asks."""
    page.goto(changelist_url)
    page.locator("#result_list tbody tr", has_text=row_text).locator("input.action-select").check()
    page.select_option("select[name=action]", action)
    with page.expect_navigation():
        page.click("button[name=index]")
    confirm = page.locator("form:has(input[name=post][value=yes])")
    if confirm.count() and not confirm.locator("input[name=reason], textarea[name=reason]").count():
        with page.expect_navigation():
            confirm.locator("[type=submit]").first.click()


def start_rollout(page: Page, reason: str) -> None:
    """On the rollout plan page: the strategy form, then Start."""
    page.fill("[name=reason]", reason)
    page.fill("[name=max_in_flight]", "2")
    page.fill("[name=health_wait]", "1")
    with page.expect_navigation():
        page.click("input[type=submit][value=Start]")
