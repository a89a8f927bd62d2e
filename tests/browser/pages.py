"""Steps an operator takes in the admin, as Playwright calls: only what a
user does on a page (click a visible link, button or action name, type into
a field), never a typed URL past the first page."""
import re

from playwright.sync_api import Page, expect


def log_in(page: Page, base: str, username: str, password: str) -> None:
    log_in_at(page, f"{base}/admin/", username, password)


def log_in_at(page: Page, url: str, username: str, password: str) -> None:
    """The URL a user was given; the admin sends them to its login form."""
    page.goto(url)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    click_link(page, "Log in", role="button")
    expect(page.locator("#console-overview")).to_be_visible()


def click_link(page: Page, name: str, *, role: str = "link", within: str | None = None) -> None:
    """Click the visible link (or button) with exactly this text, and wait for the page it opens."""
    scope = page.locator(within) if within else page
    with page.expect_navigation():
        scope.get_by_role(role, name=name, exact=True).first.click()


def open_home(page: Page) -> None:
    """The site name in the header leads home from every admin page."""
    with page.expect_navigation():
        page.locator("#site-name a").click()
    expect(page.locator("#console-overview")).to_be_visible()


def open_cluster_link(page: Page, cluster: str, name: str) -> None:
    """One of the "Next" links of the cluster's row on the home page."""
    row = page.locator("#console-clusters tbody tr", has=page.locator("td", has_text=re.compile(rf"^{cluster}$")))
    with page.expect_navigation():
        row.locator(".cluster-next").get_by_role("link", name=name, exact=True).click()


def fleet_action(page: Page, row_text: str, action: str) -> None:
    """On a changelist: tick the row, choose the action by its name, Go."""
    page.locator("#result_list tbody tr", has_text=row_text).locator("input.action-select").check()
    page.select_option("select[name=action]", label=action)
    click_link(page, "Go", role="button")


def confirm(page: Page, button: str) -> None:
    """The plan page of a two-step action: its confirming button."""
    click_link(page, button, role="button")


def plan_order(page: Page) -> list[str]:
    """The rollout plan's node order, "canaries: a", then "then 2 at a time, …: b, c"."""
    return [" ".join(text.split()) for text in page.locator("#plan-order > li").all_inner_texts()]


def wait_for_rollout(page: Page, switched: str, timeout: int, screenshot, name: str) -> None:
    """On a rollout's page, which updates itself: the timeline appears once a
    node step starts, then it ends with every node switched."""
    expect(page.locator("#rollout-timeline")).to_be_visible(timeout=timeout)
    screenshot(f"{name}-running")
    expect(page.locator("#rollout-percent")).to_have_text(switched, timeout=timeout)
    expect(page.locator("#rollout-status")).to_have_text("succeeded")
    screenshot(f"{name}-finished")
