"""Browser tests: a real headless Chromium driven by Playwright. Fixtures (`browser`, `page`, `demo`) are in
tests/browser/conftest.py, which also marks every test here `browser`; the helpers below are imported."""

from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "screenshots"


def screenshot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page, live_server, username, password):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def admin_log_in(page, live_server, username="adam", password="pw-adam"):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
