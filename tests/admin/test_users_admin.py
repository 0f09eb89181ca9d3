"""The accounts page: search and filters that combine and survive paging, a query count that does
not grow with the accounts, and a deactivation that ends everything the person had open."""

import re

from sqlalchemy import select, update

from irooms.models import SocketConnection
from learnplatform.accounts.models import LoginSession, User
from learnplatform.extensions import db, socketio
from tests.helpers import PASSWORD, Auth, count_queries, post_form

ADMIN_PAGES = ("/admin/users", "/admin/audit", "/admin/tokens")


def works_in(app, user, agency_type):
    """Record the type of agency ``user`` works for (the factory makes prosecutors)."""
    with app.app_context():
        db.session.execute(update(User).where(User.id == user.id).values(agency_type=agency_type))
        db.session.commit()


def names_in(page: str) -> list[str]:
    """The account names listed on an accounts page, in order."""
    return re.findall(r'<a href="/admin/users/\d+">([^<]+)</a>', page)


def test_country_and_agency_filters_combine_with_search_role_and_status(
    app, client, login_as, create_user
):
    login_as("administrator", name="Zara Administrator", country="AT")
    kenyan_police = create_user(name="Wanjiru Kamau", country="KE")
    works_in(app, kenyan_police, "police")
    create_user(name="Otieno Odhiambo", country="KE")  # a Kenyan prosecutor
    nigerian_police = create_user(name="Chinedu Okafor", country="NG")
    works_in(app, nigerian_police, "police")
    retired = create_user(name="Wambui Njoroge", country="KE", active=False)
    works_in(app, retired, "police")

    page = client.get("/admin/users?country=KE&agency_type=police").get_data(as_text=True)
    assert names_in(page) == ["Wambui Njoroge", "Wanjiru Kamau"]
    assert '<option value="KE" selected>Kenya</option>' in page
    assert '<option value="police" selected>Police and law enforcement</option>' in page
    assert "2 accounts" in page

    active = client.get("/admin/users?country=KE&agency_type=police&status=active")
    assert names_in(active.get_data(as_text=True)) == ["Wanjiru Kamau"]
    searched = client.get("/admin/users?q=okafor&agency_type=police&role=practitioner")
    assert names_in(searched.get_data(as_text=True)) == ["Chinedu Okafor"]
    prosecutors = client.get("/admin/users?agency_type=prosecution&country=KE")
    assert names_in(prosecutors.get_data(as_text=True)) == ["Otieno Odhiambo"]


def test_the_pages_of_a_filtered_list_keep_the_filters(app, client, login_as, create_user):
    login_as("administrator", country="AT")
    for number in range(30):
        works_in(app, create_user(name=f"Officer {number:02d}", country="KE"), "police")
    for number in range(5):
        works_in(app, create_user(name=f"Officer {number:02d} (Uganda)", country="UG"), "police")
    first = client.get("/admin/users?country=KE&agency_type=police").get_data(as_text=True)
    assert "30 accounts" in first
    assert len(names_in(first)) == 25
    links = re.findall(r'href="(/admin/users\?[^"]*page=2[^"]*)"', first)
    assert links, "no link to the second page"
    second_url = links[0].replace("&amp;", "&")
    assert "country=KE" in second_url and "agency_type=police" in second_url
    second = names_in(client.get(second_url).get_data(as_text=True))
    assert second == [f"Officer {number:02d}" for number in range(25, 30)]


def test_a_value_not_in_a_list_is_named_and_filters_nothing(app, client, login_as, create_user):
    login_as("administrator", name="Zara Administrator")
    create_user(name="Wanjiru Kamau", country="KE")
    page = client.get("/admin/users?country=XX&agency_type=spies").get_data(as_text=True)
    assert "Country: “XX” is not in the list, so the accounts are not filtered by it." in page
    assert "Agency type: “spies” is not in the list" in page
    assert names_in(page) == ["Wanjiru Kamau", "Zara Administrator"]

    hostile = client.get("/admin/users?country=<script>alert(1)</script>").get_data(as_text=True)
    assert "<script>alert(1)" not in hostile
    assert "&lt;script&gt;alert(1)" in hostile
    injected = client.get("/admin/users?q=' OR 1=1 --&country=KE' OR '1'='1")
    assert names_in(injected.get_data(as_text=True)) == []


def test_the_accounts_page_costs_the_same_queries_for_5_or_60_accounts(
    app, client, login_as, create_user
):
    login_as("administrator", country="KE")
    url = "/admin/users?country=KE&agency_type=prosecution&status=active&q=person"
    for _ in range(4):
        create_user(country="KE")
    few = count_queries(app, client, url)
    for _ in range(55):
        create_user(country="KE")
    page = client.get(url).get_data(as_text=True)
    assert "60 accounts" in page
    assert count_queries(app, client, url) == few


def test_deactivation_ends_sessions_and_chat_at_once_and_reactivation_revives_neither(
    app, client, login_as, create_user
):
    target = create_user(name="Ivan Petrov")
    their_browser = app.test_client()
    Auth(their_browser).login(target.email)
    their_chat = socketio.test_client(app, flask_test_client=their_browser)
    assert their_chat.is_connected()

    login_as("administrator")
    url = f"/admin/users/{target.id}"
    done = post_form(client, f"{url}/deactivate", {}, form_url=url, follow_redirects=True)
    assert "Ivan Petrov has been deactivated and logged out everywhere." in done.get_data(
        as_text=True
    )
    assert not their_chat.is_connected()
    assert their_browser.get("/account").status_code == 302

    post_form(client, f"{url}/reactivate", {}, form_url=url)
    # The old session stays ended: the person logs in again, and only then may chat.
    assert their_browser.get("/account").status_code == 302
    assert not socketio.test_client(app, flask_test_client=their_browser).is_connected()
    with app.app_context():
        assert (
            db.session.scalars(
                select(LoginSession).where(
                    LoginSession.user_id == target.id, LoginSession.ended_at.is_(None)
                )
            ).all()
            == []
        )
        assert db.session.scalars(select(SocketConnection)).all() == []
    assert Auth(their_browser).login(target.email, PASSWORD).status_code == 302
    assert socketio.test_client(app, flask_test_client=their_browser).is_connected()


def test_practitioners_and_trainers_get_403_from_the_account_pages(
    app, client, auth, login_as, create_user
):
    target = create_user()
    for role in ("practitioner", "trainer"):
        login_as(role)
        for path in (*ADMIN_PAGES, f"/admin/users/{target.id}", "/admin/users?country=KE"):
            assert client.get(path).status_code == 403, (role, path)
        response = post_form(
            client, f"/admin/users/{target.id}/deactivate", {}, form_url="/account"
        )
        assert response.status_code == 403
        auth.logout()
    with app.app_context():
        assert db.session.get(User, target.id).active is True


def test_an_account_page_shows_the_persons_language_and_time_zone(client, login_as, create_user):
    target = create_user(name="Leila Haddad", language="ar", time_zone="Asia/Amman")
    login_as("administrator")
    page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert '<dd class="col-sm-8" lang="ar">العربية</dd>' in page
    assert "Asia/Amman" in page
