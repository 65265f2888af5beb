"""The desk in Chromium: sign in through the page (mouse and keyboard) as every department and
as two departments at once, switch the language, the layout at 1280x800 and on a 768 px
tablet, with no console error anywhere."""

from __future__ import annotations

import asyncio
import re

from app.desk.i18n import MESSAGES
from shared.settings import DEPARTMENTS
from tests.desk.browser.conftest import TABLET, Desk, DeskMaker

EN, ZH = MESSAGES["en"], MESSAGES["zh"]


async def test_a_department_signs_in_and_switches_the_language(desk: Desk) -> None:
    page = desk.page
    await desk.open("/desk", status=200)  # the sign-in page, after the redirect
    assert re.search(r"/desk/sign-in\?next=/desk$", page.url), page.url
    await desk.shot("sign-in")
    await desk.sign_in("lin", "quality", "head:quality")

    nav = page.get_by_role("navigation", name="main")
    await nav.get_by_role("link", name=EN["dept.quality"]).wait_for()
    assert await page.get_by_role("link", name=EN["dept.sales"]).count() == 0
    assert await page.locator("html").get_attribute("lang") == "en"
    await desk.shot("home-en")

    await page.get_by_role("button", name=EN["nav.language"]).click()
    await page.get_by_role("heading", name=ZH["home.title"]).wait_for()
    assert await page.locator("html").get_attribute("lang") == "zh-CN"
    assert await nav.get_by_role("link", name=ZH["dept.quality"]).is_visible()
    await desk.shot("home-zh")

    # The choice outlives the page: a reload stays in Chinese, the switch goes back.
    await page.reload()
    assert await page.get_by_role("heading", name=ZH["home.title"]).is_visible()
    await page.get_by_role("button", name=ZH["nav.language"]).click()
    await page.get_by_role("heading", name=EN["home.title"]).wait_for()

    await page.get_by_role("button", name=EN["nav.sign_out"]).click()
    await page.get_by_role("heading", name=EN["sign_in.title"]).wait_for()
    await desk.open("/desk")
    assert "/desk/sign-in" in page.url, "signed out: the desk asks again"
    desk.assert_clean_console()


async def test_the_sign_in_form_works_from_the_keyboard(desk: Desk) -> None:
    page = desk.page
    await desk.open("/desk/sign-in")

    async def tab_to(check: str) -> None:
        """Press Tab until the focused element passes `check` (a JS predicate on it)."""
        for _ in range(60):
            await page.keyboard.press("Tab")
            if await page.evaluate(f"(e => {check})(document.activeElement)"):
                return
        raise AssertionError(f"Tab never reached {check}")

    await tab_to("e.id === 'name'")
    await page.keyboard.type("wu")
    await tab_to("e.type === 'checkbox' && e.value === 'planning'")
    await page.keyboard.press("Space")
    assert await page.get_by_role("checkbox", name="planning", exact=True).is_checked()
    # Back to the name field and Enter: the form submits without the mouse.
    await page.get_by_label(EN["sign_in.name"]).focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/desk$"))
    await page.get_by_role("link", name=EN["dept.planning"]).first.wait_for()
    desk.assert_clean_console()


async def test_a_wrong_sign_in_says_why_at_the_form(desk: Desk) -> None:
    page = desk.page
    await desk.open("/desk/sign-in")
    desk.expected_failures.add(desk.url("/desk/sign-in"))  # the 422 answer to the post
    await page.get_by_label(EN["sign_in.name"]).fill("lin")
    await page.get_by_role("button", name=EN["sign_in.submit"]).click()
    alert = page.get_by_role("alert")
    await alert.wait_for()
    assert await alert.inner_text() == EN["sign_in.need_name"]
    desk.assert_clean_console()


async def test_the_desk_fits_a_laptop_and_a_tablet(desk: Desk) -> None:
    page = desk.page
    await desk.sign_in("ops", "ops")
    await desk.shot("home-1280x800", full_page=False)
    await page.set_viewport_size(TABLET)
    await page.reload()
    await desk.shot("home-768x1024", full_page=False)
    # Nothing wider than the tablet's screen: no sideways scrolling.
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than a 768 px tablet"
    desk.assert_clean_console()


async def test_every_department_signs_in_to_its_inbox(desk: Desk) -> None:
    page = desk.page
    for dept in DEPARTMENTS:
        await desk.sign_in(f"{dept}-clerk", dept)
        nav = page.get_by_role("navigation", name="main")
        await nav.get_by_role("link", name=EN[f"dept.{dept}"]).click()
        title = EN["inbox.title"].format(dept=EN[f"dept.{dept}"])
        await page.get_by_role("heading", name=title).wait_for()
        await page.get_by_role("button", name=EN["nav.sign_out"]).click()
        await page.get_by_role("heading", name=EN["sign_in.title"]).wait_for()
    desk.assert_clean_console()


async def test_two_departments_at_two_browsers_at_once(new_desk: DeskMaker) -> None:
    sales, quality = await new_desk(), await new_desk()
    await asyncio.gather(sales.sign_in("sam", "sales"), quality.sign_in("lin", "quality"))
    # Each browser keeps its own sign-in: the other's department is not offered.
    for desk, own, other in ((sales, "sales", "quality"), (quality, "quality", "sales")):
        nav = desk.page.get_by_role("navigation", name="main")
        assert await nav.get_by_role("link", name=EN[f"dept.{own}"]).count() == 1
        assert await nav.get_by_role("link", name=EN[f"dept.{other}"]).count() == 0
    await asyncio.gather(
        sales.page.goto(sales.url("/desk/inbox/sales")),
        quality.page.goto(quality.url("/desk/inbox/quality")),
    )
    for desk, own in ((sales, "sales"), (quality, "quality")):
        title = EN["inbox.title"].format(dept=EN[f"dept.{own}"])
        await desk.page.get_by_role("heading", name=title).wait_for()
        desk.assert_clean_console()
