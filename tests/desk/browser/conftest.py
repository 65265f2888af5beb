"""The desk in a real browser: Debian's Chromium (`make test` installs it) driven by Playwright's
async API in the tests' own event loop, the one the `stack` fixture's gateway serves on (a sync
driver would block that loop and the page would never load).

Nothing downloads a browser: Playwright launches the system Chromium by `executable_path`.
Every page's console errors and uncaught exceptions are collected; each test asserts there are
none. Screenshots go to `ORDERFLOW_SCREENSHOTS` when set, else to a folder under pytest's
temporary root; the folder is printed at the end of the run.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    FloatRect,
    Page,
    ViewportSize,
    async_playwright,
)

from app.desk.i18n import MESSAGES
from tests.conftest import Stack

CHROMIUM = Path(os.environ.get("ORDERFLOW_CHROMIUM", "/usr/bin/chromium"))
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
TABLET: ViewportSize = {"width": 768, "height": 1024}
_shots: list[Path] = []


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The system Chromium; the tests fail, not skip, without it."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: `make browser` (or `make test`) installs Debian's "
            "chromium with apt-get; ORDERFLOW_CHROMIUM names another path"
        )
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    """One headless Chromium for the whole session (each test gets its own context)."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium), headless=True)
        yield launched
        await launched.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the desk's screenshots go (printed in the run's summary)."""
    chosen = os.environ.get("ORDERFLOW_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("desk-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Desk:
    """One browser context on the gateway: its page, what went wrong in its console, and how to
    sign in and take screenshots."""

    page: Page
    base_url: str
    folder: Path
    errors: list[str] = field(default_factory=list)
    # Documents the test opens expecting an error status: Chromium logs "Failed to load
    # resource" for those, which is the page answering as it should, not a broken page.
    expected_failures: set[str] = field(default_factory=set)

    def url(self, path: str) -> str:
        return self.base_url + path

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        source = message.location.get("url", "")
        if message.text.startswith("Failed to load resource") and source in self.expected_failures:
            return
        self.errors.append(f"{source}: {message.text}")

    async def open(self, path: str, *, status: int = 200) -> None:
        """Go to `path` and check the status the document answered with."""
        if status >= 400:
            self.expected_failures.add(self.url(path))
        answer = await self.page.goto(self.url(path))
        assert answer is not None and answer.status == status, (path, answer and answer.status)

    async def sign_in(self, name: str, *roles: str, lang: str = "en") -> None:
        """Sign in through the sign-in page (development: a name and roles) with the mouse."""
        await self.open("/desk/sign-in")
        await self.page.get_by_label(MESSAGES[lang]["sign_in.name"]).fill(name)
        for role in roles:
            await self.page.get_by_role("checkbox", name=role, exact=True).check()
        await self.page.get_by_role("button", name=MESSAGES[lang]["sign_in.submit"]).click()
        await self.page.wait_for_url(re.compile(r"/desk$"))

    async def shot(self, name: str, *, full_page: bool = True, down_to: str = "") -> Path:
        """A PNG of the page as it is now, into the screenshots folder (from the top down to the
        bottom of the element `down_to` selects, if given)."""
        path = self.folder / f"{name}.png"
        if down_to:
            box = await self.page.locator(down_to).bounding_box()
            assert box is not None, down_to
            width = self.page.viewport_size["width"] if self.page.viewport_size else 1280
            clip: FloatRect = {"x": 0, "y": 0, "width": width, "height": box["y"] + box["height"]}
            await self.page.screenshot(path=str(path), full_page=True, clip=clip)
        else:
            await self.page.screenshot(path=str(path), full_page=full_page)
        assert path.stat().st_size > 1000, path
        _shots.append(path)
        return path

    def assert_clean_console(self) -> None:
        assert not self.errors, "console errors:\n" + "\n".join(self.errors)


DeskMaker = Callable[[], Awaitable[Desk]]


@pytest.fixture
async def new_desk(browser: Browser, stack: Stack, screenshots: Path) -> AsyncIterator[DeskMaker]:
    """Opens fresh browser contexts (no cookies; 1280x800, English) on the stack's gateway, as
    many as a test wants: two people at two browsers at once."""
    contexts: list[BrowserContext] = []

    async def opened() -> Desk:
        context = await browser.new_context(viewport=DESKTOP, locale="en-US")
        contexts.append(context)
        page = await context.new_page()
        made = Desk(page=page, base_url=str(stack.http.base_url).rstrip("/"), folder=screenshots)
        page.on("console", made._console)
        page.on("pageerror", lambda error: made.errors.append(f"uncaught: {error}"))
        return made

    try:
        yield opened
    finally:
        for context in contexts:
            await context.close()


@pytest.fixture
async def desk(new_desk: DeskMaker) -> Desk:
    """One fresh browser context on the stack's gateway."""
    return await new_desk()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say where the screenshots are: the run's output names the folder."""
    if _shots:
        terminalreporter.write_line(f"desk screenshots: {_shots[0].parent} ({len(_shots)} files)")
