"""Real browsers for the tests: Debian's Chromium, headless, driven by Playwright (nothing here
downloads a browser of its own), and the pages the browser tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import expect

from tests.accounts import STAFF_PASSWORD

CHROMIUM = "/usr/bin/chromium"  # Debian's; nothing downloads a browser of its own
HAS_CHROMIUM = Path(CHROMIUM).exists()
# Where the browser tests leave their screenshots (kept as test artefacts).
SCREENSHOTS = Path(".run/screenshots")


async def chromium(playwright: Any) -> Any:
    """Debian's Chromium, headless, with no calls home (the machine's network is closed)."""
    assert HAS_CHROMIUM, "make test installs chromium (JEDEL_SETUP_BROWSER=1)"
    return await playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )


async def console_page(browser: Any, url: str, language: str, username: str) -> Any:
    """A desktop page with the dispatcher's console open and `username` signed in."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    await page.goto(f"{url}/console?lang={language}")
    await page.locator("#username").fill(username)
    await page.locator("#password").fill(STAFF_PASSWORD)
    await page.locator("form.sign-in button[type=submit]").click()
    page.on("console", lambda message: print(f"console [{username}]: {message.text}"))
    await expect(page.locator("#who")).to_contain_text("KZ-", timeout=10_000)
    return page
