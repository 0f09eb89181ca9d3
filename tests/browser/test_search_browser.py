"""The platform's search in Chromium: a practitioner types 反恐, then "ارهاب" (without its hamza)
into the header's search box and finds the matching modules, lessons and posts, with the words
marked, and nothing from a room they are not in; in Arabic the page reads right to left.
Screenshots at 1280 and 390 px are kept in test-artifacts/ under names starting with
``search-``."""

from playwright.sync_api import expect
from sqlalchemy import update

from learnplatform.accounts.models import User
from learnplatform.extensions import db
from tests.browser.conftest import shots_at_widths, tr
from tests.helpers import PASSWORD
from tests.search.test_search import multilingual_content

WIDTHS = {"desktop": 1280, "phone": 390}


def log_in(app, page, live_server, user, language):
    page.goto(f"{live_server}/login")
    page.get_by_label(tr(app, language, "E-mail address")).fill(user.email)
    page.get_by_label(tr(app, language, "Password")).fill(PASSWORD)
    page.get_by_role("button", name=tr(app, language, "Log in")).click()
    page.wait_for_url(lambda url: "/login" not in url)


def search_from_header(app, page, language, words):
    """Type ``words`` into the header's search box and send them, at any width."""
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
    box = page.get_by_role("search").first.get_by_role(
        "searchbox", name=tr(app, language, "Search")
    )
    box.fill(words)
    box.press("Enter")
    page.wait_for_url(lambda url: "/search?" in url)


def results_list(page):
    return page.locator("ol.search-results")


def test_chinese_and_arabic_searches_find_only_what_the_searcher_may_see(
    app, live_server, browser, create_user
):
    me = create_user(name="Amina Diallo", language="zh")
    multilingual_content(app, me, create_user(role="trainer"), create_user())
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(app, page, live_server, me, "zh")

    search_from_header(app, page, "zh", "反恐")
    found = results_list(page)
    expect(found.get_by_role("link", name="反恐怖主义国际法律框架")).to_be_visible()
    expect(found.locator("mark", has_text="反恐").first).to_be_visible()
    expect(found).not_to_contain_text("secret")
    expect(found).not_to_contain_text("interdit")
    expect(page.get_by_role("link", name="反恐 secret numérique")).to_have_count(0)
    shots_at_widths(page, "search-zh-cbrn", WIDTHS)

    # At 390 px, with the header folded, the same box searches again.
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{live_server}/")
    search_from_header(app, page, "zh", "核")
    expect(results_list(page).get_by_role("link", name="核材料")).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 900})

    # In Arabic: the page reads right to left; alef without hamza finds إرهاب, and the lessons
    # written with tatweel and with vowel marks.
    with app.app_context():
        db.session.execute(update(User).where(User.id == me.id).values(language="ar"))
        db.session.commit()
    page.goto(f"{live_server}/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    search_from_header(app, page, "ar", "ارهاب")
    found = results_list(page)
    expect(found.get_by_role("link", name="مكافحة الإرهاب")).to_be_visible()
    expect(found.get_by_role("link", name="الدرس الأول")).to_be_visible()
    expect(found.get_by_role("link", name="الدرس الثاني")).to_be_visible()
    expect(found).not_to_contain_text("المغلقة")
    expect(page.get_by_role("link", name="إرهاب في الغرفة المغلقة")).to_have_count(0)
    shots_at_widths(page, "search-ar-terrorism", WIDTHS)

    # A word nobody may find here says so.
    search_from_header(app, page, "ar", "interdit")
    expect(results_list(page)).to_have_count(0)
    expect(page.get_by_role("status")).to_be_visible()
    shots_at_widths(page, "search-ar-nothing", WIDTHS)
    context.close()
