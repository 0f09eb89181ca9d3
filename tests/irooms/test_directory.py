"""The member directory of a room (issue 20): each member shows only what they chose on their
account page; filters by country and expertise find people by that alone; a member's page lists
their posts and answers in the room; outsiders and removed members get 404."""

import re
from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import delete, select, update

from irooms.models import Membership
from learnplatform.accounts.models import User
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.forums.models import Forum, Post, Topic
from tests.helpers import Auth, count_queries, post_form
from tests.irooms.test_members import as_user
from tests.irooms.test_rooms import add_room

#: what the account page holds for a person, before any change
PROFILE = {
    "name": "Aïcha Maïga",
    "country": "ML",
    "organisation": "Pôle judiciaire spécialisé",
    "agency_type": "prosecution",
    "gender": "woman",
    "language": "en",
    "time_zone": "UTC",
}


def profile(app, user, *, shows: str = "", **fields) -> None:
    """Give ``user`` these profile fields and directory choices, as the account page would."""
    with app.app_context():
        db.session.execute(
            update(User).where(User.id == user.id).values(directory_shows=shows, **fields)
        )
        db.session.commit()


def stored(app, user) -> User:
    with app.app_context():
        found = db.session.get(User, user.id)
        db.session.expunge(found)
        return found


def page_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def names_listed(page: str) -> list[str]:
    """The names of the members a directory page lists, in order."""
    return re.findall(r'<h2 class="h6 mb-0"><a href="[^"]+" dir="auto">([^<]+)</a>', page)


@pytest.fixture
def room_with_a_member(app, create_user):
    """A room with a host and a participant (Moussa, in Niger, with a full profile that he has
    not chosen to show yet): (room id, host, participant)."""
    host = create_user(role="trainer", name="Kwame Mensah")
    moussa = create_user(name="Moussa Traoré", country="NE")
    profile(
        app,
        moussa,
        organisation="Pôle antiterroriste de Niamey",
        agency_type="judiciary",
        expertise="Enquêtes financières, entraide judiciaire",
        languages_spoken="Français, Hausa",
    )
    room_id = add_room(app, "Sahel prosecutors", [(host, "host"), (moussa, "participant")])
    return room_id, host, moussa


MOUSSA_FIELDS = {
    "country": "Niger",
    "agency_type": "Judiciary",
    "organisation": "Pôle antiterroriste de Niamey",
    "expertise": "Enquêtes financières",
    "languages": "Hausa",
}


# What is shown.
def test_nothing_is_shown_that_the_member_did_not_choose(app, room_with_a_member, create_user):
    room_id, host, moussa = room_with_a_member
    participant = create_user()
    with app.app_context():
        db.session.add(Membership(room_id=room_id, user_id=participant.id, role="participant"))
        db.session.commit()
    pages = {
        "host": as_user(app, host),
        "participant": as_user(app, participant),
    }
    for browser in pages.values():
        for url in (f"/irooms/{room_id}/members", f"/irooms/{room_id}/members/{moussa.id}"):
            page = page_of(browser, url)
            assert "Moussa Traoré" in page and "Participant" in page
            for shown in MOUSSA_FIELDS.values():
                assert shown not in page, (url, shown)

    # He shows his country and his expertise: those, and nothing more.
    profile(app, moussa, shows="country,expertise")
    for browser in pages.values():
        for url in (f"/irooms/{room_id}/members", f"/irooms/{room_id}/members/{moussa.id}"):
            page = page_of(browser, url)
            for field, shown in MOUSSA_FIELDS.items():
                assert (shown in page) == (field in {"country", "expertise"}), (url, field)
            assert "entraide judiciaire" in page


def test_a_chosen_field_left_empty_shows_no_heading(app, client, room_with_a_member):
    room_id, host, moussa = room_with_a_member
    profile(app, moussa, shows="organisation,languages", organisation="", languages_spoken="")
    Auth(client).login(host.email)
    page = page_of(client, f"/irooms/{room_id}/members/{moussa.id}")
    assert "Organisation" not in page and "Languages" not in page


def test_a_stored_script_in_a_profile_stays_text(app, client, room_with_a_member):
    room_id, host, moussa = room_with_a_member
    hostile = {
        "organisation": "<script>alert('organisation')</script>",
        "expertise": "<img src=x onerror=alert('expertise')>",
        "languages_spoken": '"><svg onload=alert(1)>',
    }
    Auth(client).login(moussa.email)
    response = post_form(
        client,
        "/account",
        PROFILE | hostile | {"shown_in_directory": ["organisation", "expertise", "languages"]},
    )
    assert response.status_code == 302
    Auth(client).logout()
    Auth(client).login(host.email)
    for url in (f"/irooms/{room_id}/members", f"/irooms/{room_id}/members/{moussa.id}"):
        page = page_of(client, url)
        assert "&lt;script&gt;alert(&#39;organisation&#39;)&lt;/script&gt;" in page
        assert "&lt;img src=x onerror=alert(&#39;expertise&#39;)&gt;" in page
        assert "&#34;&gt;&lt;svg onload=alert(1)&gt;" in page
        assert "<script>alert" not in page and "<img src=x" not in page and "<svg" not in page


# Filters.
@pytest.fixture
def room_of_five(app, create_user):
    """A room whose members show different things: (room id, host)."""
    host = create_user(role="trainer", name="Host Person")
    people = {
        "Awa Diallo": ("ML", "country,expertise", "Enquêtes FINANCIÈRES, saisie d'avoirs"),
        "Bako Issa": ("NE", "country,expertise", "terrorist financing"),
        # Shows her expertise, not her country.
        "Chantal Koné": ("BF", "expertise", "financial intelligence"),
        # Shows his country, not his expertise.
        "Daouda Sy": ("ML", "country", "financial investigations"),
        # Shows nothing.
        "Erik Lund": ("TD", "", "financial investigations"),
    }
    members = [(host, "host")]
    for name, (country, shows, expertise) in people.items():
        person = create_user(name=name, country=country)
        profile(app, person, shows=shows, expertise=expertise)
        members.append((person, "participant"))
    room_id = add_room(app, "Sahel prosecutors", members)
    return room_id, host


def test_the_country_filter_offers_and_finds_only_countries_shown(app, client, room_of_five):
    room_id, host = room_of_five
    Auth(client).login(host.email)
    page = page_of(client, f"/irooms/{room_id}/members")
    options = re.search(r'<select class="form-select" id="country".*?</select>', page, re.S)
    assert re.findall(r'<option value="(\w*)"', options.group(0)) == ["", "ML", "NE"]
    assert "Burkina Faso" not in page and "Chad" not in page

    page = page_of(client, f"/irooms/{room_id}/members?country=ML")
    assert names_listed(page) == ["Awa Diallo", "Daouda Sy"]
    assert "2 members of 6 match" in page
    # A country nobody shows finds nobody, even where someone lives there.
    page = page_of(client, f"/irooms/{room_id}/members?country=TD")
    assert names_listed(page) == [] and "No member matches." in page


def test_the_expertise_filter_ignores_case_and_accents(app, client, room_of_five):
    room_id, host = room_of_five
    Auth(client).login(host.email)
    members = f"/irooms/{room_id}/members"
    assert names_listed(page_of(client, f"{members}?expertise=financieres")) == ["Awa Diallo"]
    assert names_listed(page_of(client, f"{members}?expertise=ENQUÊTES+Financières")) == [
        "Awa Diallo"
    ]
    # Only those who show their expertise are found by it.
    assert names_listed(page_of(client, f"{members}?expertise=financ")) == [
        "Awa Diallo",
        "Bako Issa",
        "Chantal Koné",
    ]
    assert names_listed(page_of(client, f"{members}?expertise=financ&country=ML")) == ["Awa Diallo"]
    assert names_listed(page_of(client, f"{members}?expertise=investigations")) == []


def test_filters_are_text_not_sql_or_markup(app, client, room_of_five):
    room_id, host = room_of_five
    Auth(client).login(host.email)
    members = f"/irooms/{room_id}/members"
    page = page_of(client, f"{members}?expertise=%25&country=ML'+OR+1=1--")
    assert names_listed(page) == []
    page = page_of(client, f"{members}?expertise=%22%3E%3Cscript%3Ealert(1)%3C/script%3E")
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_hosts_list_members_first_and_keep_their_controls(app, client, room_of_five):
    room_id, host = room_of_five
    Auth(client).login(host.email)
    page = page_of(client, f"/irooms/{room_id}/members")
    assert names_listed(page)[0] == "Host Person"
    assert "Add a member" in page
    assert page.count('name="role"') == 6 + 1  # one per member, and the new member's
    assert 'Remove<span class="visually-hidden"> Erik Lund</span>' in page


def test_the_directory_takes_as_many_queries_for_thirty_members_as_for_three(
    app, client, create_user
):
    host = create_user(role="trainer")
    room_id = add_room(app, "Sahel prosecutors", [(host, "host")])
    Auth(client).login(host.email)

    def grow_to(total):
        while True:
            with app.app_context():
                members = db.session.scalar(
                    select(db.func.count(Membership.id)).where(Membership.room_id == room_id)
                )
            if members >= total:
                return
            person = create_user(country="SN")
            profile(app, person, shows="country,expertise,languages", expertise="asset recovery")
            with app.app_context():
                db.session.add(Membership(room_id=room_id, user_id=person.id, role="participant"))
                db.session.commit()

    urls = [f"/irooms/{room_id}/members", f"/irooms/{room_id}/members?country=SN&expertise=asset"]
    grow_to(3)
    few = [count_queries(app, client, url) for url in urls]
    grow_to(30)
    assert [count_queries(app, client, url) for url in urls] == few


# Who may see it.
def test_outsiders_get_404_on_the_directory_and_member_pages(app, room_with_a_member, create_user):
    room_id, host, moussa = room_with_a_member
    other_room = add_room(app, "Central Asia", [(create_user(role="trainer"), "host")])
    stranger = create_user()
    outsider = as_user(app, stranger)
    urls = [
        f"/irooms/{room_id}/members",
        f"/irooms/{room_id}/members?country=NE",
        f"/irooms/{room_id}/members/{moussa.id}",
        f"/irooms/{room_id}/members/{host.id}",
    ]
    for url in urls:
        assert outsider.get(url).status_code == 404, url
    # A member of the room: someone outside it, or no one, has no page in it.
    member = as_user(app, host)
    for user_id in (stranger.id, 999999):
        assert member.get(f"/irooms/{room_id}/members/{user_id}").status_code == 404
    assert member.get(f"/irooms/{other_room}/members/{host.id}").status_code == 404


def test_a_removed_member_gets_404_and_has_no_page_any_more(app, room_with_a_member):
    room_id, host, moussa = room_with_a_member
    browser = as_user(app, moussa)
    assert browser.get(f"/irooms/{room_id}/members/{host.id}").status_code == 200
    with app.app_context():
        db.session.execute(delete(Membership).where(Membership.user_id == moussa.id))
        db.session.commit()
    assert browser.get(f"/irooms/{room_id}/members").status_code == 404
    assert browser.get(f"/irooms/{room_id}/members/{host.id}").status_code == 404
    assert as_user(app, host).get(f"/irooms/{room_id}/members/{moussa.id}").status_code == 404


# A member's page.
class Forums:
    """Topics and posts written straight into a room's forum, a second apart, oldest first."""

    def __init__(self, app):
        self.app = app
        self.clock = utcnow() - timedelta(days=1)
        self.tokens = count()

    def forum(self, room_id) -> int:
        with self.app.app_context():
            found = db.session.scalar(select(Forum.id).where(Forum.room_id == room_id))
            if found is None:
                forum = Forum(room_id=room_id)
                db.session.add(forum)
                db.session.commit()
                found = forum.id
            return found

    def topic(self, room_id, title, posts, *, question=False, answer=None, **topic_fields):
        """A topic of ``posts`` ((author, body) pairs, the first opening it); ``answer`` is the
        number of the post marked as its answer. The posts' ids."""
        forum_id = self.forum(room_id)
        with self.app.app_context():
            topic = Topic(
                forum_id=forum_id,
                title=title,
                author_id=posts[0][0].id,
                client_token=f"t{next(self.tokens)}",
                is_question=question,
                **topic_fields,
            )
            db.session.add(topic)
            db.session.flush()
            made = []
            for seq, (author, body) in enumerate(posts, start=1):
                self.clock += timedelta(seconds=1)
                post = Post(
                    topic_id=topic.id,
                    forum_id=forum_id,
                    seq=seq,
                    author_id=author.id,
                    client_token=f"p{next(self.tokens)}",
                    body_html=body,
                    created_at=self.clock,
                )
                db.session.add(post)
                made.append(post)
            db.session.flush()
            topic.last_seq = len(posts)
            if answer:
                topic.answer_post_id = made[answer - 1].id
            db.session.commit()
            return [post.id for post in made]


def test_a_members_page_lists_their_posts_and_answers_newest_first(
    app, client, room_with_a_member, create_user
):
    room_id, host, moussa = room_with_a_member
    forums = Forums(app)
    forums.topic(
        room_id,
        "Gel des avoirs : quelle procédure ?",
        [
            (host, "<p>Qui a déjà gelé des avoirs ?</p>"),
            (moussa, "<p>Nous passons par la <b>CENTIF</b>.</p>"),
        ],
        question=True,
        answer=2,
    )
    forums.topic(room_id, "Livraisons surveillées", [(moussa, "<p>Un retour d'expérience.</p>")])
    forums.topic(
        room_id,
        "Un sujet masqué",
        [(moussa, "<p>Dans un sujet masqué</p>")],
        hidden_at=utcnow(),
    )
    [_, hidden_reply, deleted_reply] = forums.topic(
        room_id,
        "Interceptions",
        [
            (host, "<p>Cadre légal ?</p>"),
            (moussa, "<p>Réponse masquée</p>"),
            (moussa, "<p>Effacée</p>"),
        ],
    )
    with app.app_context():
        db.session.execute(update(Post).where(Post.id == hidden_reply).values(hidden_at=utcnow()))
        db.session.execute(update(Post).where(Post.id == deleted_reply).values(deleted_at=utcnow()))
        db.session.commit()
    elsewhere = add_room(app, "Central Asia", [(moussa, "participant")])
    forums.topic(elsewhere, "Another room's topic", [(moussa, "<p>Not here</p>")])

    Auth(client).login(host.email)
    page = page_of(client, f"/irooms/{room_id}/members/{moussa.id}")
    titles = re.findall(r'<h3 class="h6 mb-1 text-break" dir="auto">\s*(?:<a [^>]+>)?([^<]+)', page)
    assert titles == ["Livraisons surveillées", "Gel des avoirs : quelle procédure ?"]
    assert "2 posts" in page and "1 answer" in page
    assert "Nous passons par la CENTIF." in page  # as text, the markup left out
    for absent in ("Dans un sujet masqué", "Réponse masquée", "Effacée", "Not here", "Qui a déjà"):
        assert absent not in page

    answers = page_of(client, f"/irooms/{room_id}/members/{moussa.id}?show=answers")
    assert "Nous passons par la CENTIF." in answers and "retour d&#39;expérience" not in answers
    if "forums.topic" in app.view_functions:
        assert re.search(r'href="/[^"]+#post-2">Gel des avoirs', page)
    else:
        assert "#post-" not in page


def test_a_members_page_pages_by_key_and_takes_constant_queries(app, client, room_with_a_member):
    room_id, host, moussa = room_with_a_member
    forums = Forums(app)
    Auth(client).login(host.email)
    url = f"/irooms/{room_id}/members/{moussa.id}"
    forums.topic(room_id, "Topic 0", [(moussa, "<p>Post 0</p>")])
    few = count_queries(app, client, url)
    for number in range(1, 45):
        forums.topic(room_id, f"Topic {number}", [(moussa, f"<p>Post {number}</p>")])
    # The last post of the first page and the first of the next at the same second: each is
    # shown once.
    with app.app_context():
        same_time = select(Post.created_at).where(Post.body_html == "<p>Post 24</p>")
        db.session.execute(
            update(Post)
            .where(Post.body_html == "<p>Post 25</p>")
            .values(created_at=same_time.scalar_subquery())
        )
        db.session.commit()
    assert count_queries(app, client, url) == few

    seen = []
    while url:
        page = page_of(client, url)
        seen += [int(n) for n in re.findall(r">Post (\d+)<", page)]
        more = re.search(r'href="([^"]*before=\d+[^"]*)">More</a>', page)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert seen == list(range(44, -1, -1))
    for before in ("99999999999999999999", "-1", "x", str(2**31)):
        assert (
            client.get(f"/irooms/{room_id}/members/{moussa.id}?before={before}").status_code == 200
        )


# The account page.
def test_the_account_page_saves_expertise_languages_and_choices(app, client, login_as):
    me = login_as()
    response = post_form(
        client,
        "/account",
        PROFILE
        | {
            "expertise": "  financial  investigations,, Financial Investigations ,"
            " mutual legal\u202e assistance\x07, ",
            "languages_spoken": "Français、 Hausa، hausa",
            "shown_in_directory": ["languages", "country"],
        },
        follow_redirects=True,
    )
    assert "Your profile has been saved." in response.get_data(as_text=True)
    saved = stored(app, me)
    assert saved.expertise == "financial investigations, mutual legal assistance"
    assert saved.languages_spoken == "Français, Hausa"
    assert saved.directory_shows == "country,languages"

    page = page_of(client, "/account")
    assert re.findall(r'<input checked[^>]*type="checkbox" value="(\w+)"', page) == [
        "country",
        "languages",
    ]
    assert 'value="financial investigations, mutual legal assistance"' in page

    # Nothing ticked: nothing shown.
    post_form(client, "/account", PROFILE | {"expertise": saved.expertise})
    assert stored(app, me).directory_shows == ""


def test_the_account_page_refuses_bad_lists_and_changes_nothing(app, client, login_as):
    me = login_as()
    before = stored(app, me)
    refusals = {
        "expertise": ("x" * 81, "Each item has at most 80 characters"),
        "languages_spoken": (
            ", ".join(f"Language {n}" for n in range(30)),
            "At most 200 characters in all",
        ),
    }
    for field, (typed, message) in refusals.items():
        response = post_form(
            client,
            "/account",
            PROFILE | {field: typed, "name": "Someone Else", "shown_in_directory": ["country"]},
        )
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)
    response = post_form(client, "/account", PROFILE | {"shown_in_directory": ["country", "email"]})
    assert "&#39;email&#39; is not a valid choice" in response.get_data(as_text=True)
    after = stored(app, me)
    assert (after.name, after.expertise, after.languages_spoken, after.directory_shows) == (
        before.name,
        "",
        "",
        "",
    )


def test_nobody_is_shown_by_registering(app, client):
    from tests.learnplatform.test_accounts import REGISTRATION

    post_form(
        client,
        "/register",
        REGISTRATION | {"shown_in_directory": ["country"], "expertise": "forged"},
    )
    with app.app_context():
        person = db.session.scalar(select(User))
        assert (person.directory_shows, person.expertise) == ("", "")
