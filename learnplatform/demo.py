"""The demo data set behind ``make run``: accounts, modules, webinar series and iRooms.

Two webinar series have recordings, captions and slides for their past webinars, with a year of
views and downloads; the files are stored as uploads are, under ``STORAGE_DIR``.

Three iRooms have hosts, experts and participants from their region, a library (PDF files, one
of them in two versions, links to a module, a webinar series and public pages, with members'
downloads over the past months), past live sessions with attendance and upcoming ones; every room
has an invitation link, and members last visited some days or weeks ago, so that "My iRooms"
shows what is new. Each room's forum holds some weeks of discussion, read up to each member's
last visit (``learnplatform.demo_forums``).

Modules, their lessons (with the pictures they show) and tests are data files, one per module
version, under ``data/demo/modules/`` (``learnplatform.demo_modules``); the CBRN module is there
in the seven languages, linked as versions.

The English module on electronic evidence ends with a SCORM 2004 lesson, a scenario of our own
(``learnplatform.demo_scorm``).

Loading is idempotent: every record is looked up by its natural key (an e-mail address, a module
or series title, a room name, a membership's room and person, a resource's or session's room and
title, an invitation's room and note) and only what is missing is added; downloads and attendance
are added to a resource or session that has none.
The wording follows the public reports about the platform this product is modelled on.
"""

import io
import random
import secrets
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from courses import services as courses
from courses.models import (
    Caption,
    Certificate,
    Enrolment,
    LessonProgress,
    Module,
    Quiz,
    QuizAttempt,
    RecordingEvent,
    Webinar,
    WebinarSeries,
)
from courses.webinars import DOWNLOAD, SLIDES, VIEW
from irooms.models import (
    Attendance,
    Invitation,
    LiveSession,
    Membership,
    Resource,
    ResourceDownload,
    ResourceVersion,
    Room,
)
from learnplatform.accounts.models import User
from learnplatform.demo_forums import add_forum_topics
from learnplatform.demo_modules import add_lessons_and_tests, add_modules
from learnplatform.demo_scorm import add_scorm_lessons
from learnplatform.demo_surveys import add_surveys
from learnplatform.extensions import db
from learnplatform.passwords import hash_password
from learnplatform.storage import CAPTION_TYPES, PDF, RECORDING_TYPES, save_upload


@dataclass(frozen=True)
class DemoAccount:
    """An account printed by ``make run`` so that anyone can log in and look around."""

    email: str
    password: str
    role: str
    name: str
    country: str
    organisation: str
    agency_type: str
    gender: str = "undisclosed"
    language: str = "en"
    time_zone: str = "UTC"


DEMO_ACCOUNTS = (
    DemoAccount(
        "admin@example.org",
        "harbour lantern quietly folds",
        "administrator",
        "Amina Haddad",
        "AT",
        "Terrorism Prevention Branch",
        "international_organisation",
        "woman",
        time_zone="Europe/Vienna",
    ),
    DemoAccount(
        "trainer@example.org",
        "copper meadow under seven bridges",
        "trainer",
        "Jean-Luc Mbeki",
        "SN",
        "Regional Office for West and Central Africa",
        "international_organisation",
        "man",
        "fr",
        "Africa/Dakar",
    ),
    DemoAccount(
        "trainer2@example.org",
        "velvet compass drifting eastward",
        "trainer",
        "Dilnoza Karimova",
        "UZ",
        "Regional Office for Central Asia",
        "international_organisation",
        "woman",
        "ru",
        "Asia/Tashkent",
    ),
    DemoAccount(
        "practitioner@example.org",
        "granite orchard beneath winter stars",
        "practitioner",
        "Moussa Traoré",
        "ML",
        "Pôle judiciaire spécialisé antiterroriste",
        "prosecution",
        "man",
        "fr",
        "Africa/Bamako",
    ),
    DemoAccount(
        "practitioner2@example.org",
        "silent kettle beside amber river",
        "practitioner",
        "Lucía Fernández",
        "CO",
        "Fiscalía General de la Nación",
        "prosecution",
        "woman",
        "es",
        "America/Bogota",
    ),
)

# Practitioners beyond the demo accounts: (country, language, agency type, organisation).
_PRACTITIONER_PLACES = (
    ("NE", "fr", "judiciary", "Tribunal de grande instance hors classe de Niamey"),
    ("BF", "fr", "prosecution", "Pôle judiciaire spécialisé antiterroriste"),
    ("TD", "fr", "police", "Police judiciaire"),
    ("MR", "ar", "prosecution", "Parquet général"),
    ("NG", "en", "prosecution", "Office of the Attorney General"),
    ("KE", "en", "police", "Anti-Terrorism Police Unit"),
    ("SO", "en", "prisons", "Custodial Corps"),
    ("UG", "en", "financial_intelligence", "Financial Intelligence Authority"),
    ("ET", "en", "judiciary", "Federal High Court"),
    ("TN", "ar", "judiciary", "Pôle judiciaire antiterroriste"),
    ("MA", "ar", "police", "Bureau central d'investigations judiciaires"),
    ("EG", "ar", "ministry", "Ministry of Justice"),
    ("JO", "ar", "customs_borders", "Jordan Customs"),
    ("IQ", "ar", "prosecution", "Public Prosecution"),
    ("LB", "ar", "civil_society", "Lebanese Centre for Human Rights"),
    ("KZ", "ru", "financial_intelligence", "Agency for Financial Monitoring"),
    ("KG", "ru", "prosecution", "Prosecutor General's Office"),
    ("TJ", "ru", "police", "Ministry of Internal Affairs"),
    ("TM", "ru", "customs_borders", "State Border Service"),
    ("UZ", "ru", "judiciary", "Supreme Court"),
    ("PK", "en", "police", "Counter Terrorism Department"),
    ("BD", "en", "prosecution", "Attorney General's Office"),
    ("LK", "en", "ministry", "Ministry of Defence"),
    ("MV", "en", "police", "Maldives Police Service"),
    ("ID", "en", "prosecution", "Attorney General's Office"),
    ("PH", "en", "financial_intelligence", "Anti-Money Laundering Council"),
    ("MY", "en", "police", "Royal Malaysia Police"),
    ("CN", "zh", "academia", "Institute of International Law"),
    ("CO", "es", "judiciary", "Corte Suprema de Justicia"),
    ("PE", "es", "prosecution", "Ministerio Público"),
    ("PY", "es", "financial_intelligence", "Secretaría de Prevención de Lavado de Dinero o Bienes"),
    ("MX", "es", "police", "Guardia Nacional"),
    ("GT", "es", "customs_borders", "Superintendencia de Administración Tributaria"),
    ("BR", "pt", "police", "Polícia Federal"),
    ("MZ", "pt", "prosecution", "Procuradoria-Geral da República"),
    ("AO", "pt", "judiciary", "Tribunal Supremo"),
    ("GW", "pt", "ministry", "Ministério da Justiça"),
    ("CV", "pt", "customs_borders", "Direção Nacional das Receitas do Estado"),
    ("BA", "en", "prosecution", "Prosecutor's Office of Bosnia and Herzegovina"),
    ("MK", "en", "prisons", "Directorate for Execution of Sanctions"),
    ("AL", "en", "police", "State Police"),
    ("TR", "en", "academia", "Faculty of Law"),
    ("UA", "ru", "defence", "Bar Association"),
    ("FR", "fr", "defence", "Barreau de Paris"),
    ("BE", "fr", "international_organisation", "Regional organisation liaison office"),
)

_GIVEN_NAMES = {
    "en": ("Grace", "Samuel", "Aisha", "David", "Nimal", "Farah", "Ibrahim", "Ruth", "Arjun"),
    "fr": ("Aminata", "Ousmane", "Fatoumata", "Boubacar", "Mariam", "Issa", "Claire", "Yacouba"),
    "ar": ("Leila", "Omar", "Nour", "Karim", "Salma", "Youssef", "Rania", "Hassan"),
    "ru": ("Aigerim", "Timur", "Gulnara", "Rustam", "Madina", "Bakyt", "Olena", "Sherzod"),
    "es": ("María", "Carlos", "Valentina", "Jorge", "Camila", "Andrés", "Sofía", "Diego"),
    "pt": ("Ana", "João", "Beatriz", "Paulo", "Luísa", "Armando", "Carla", "Nelson"),
    "zh": ("Wei", "Li Na", "Jun", "Mei"),
}
_FAMILY_NAMES = {
    "en": ("Okafor", "Mwangi", "Rahman", "Perera", "Santos", "Hoxha", "Kaya", "Nasution"),
    "fr": ("Diallo", "Koné", "Ouédraogo", "Sow", "Maïga", "Dubois", "Camara", "Kaboré"),
    "ar": ("El Amrani", "Ben Salah", "Haddad", "Mansour", "Abdallah", "Khalil", "Saleh"),
    "ru": ("Nurlanovna", "Abdullaev", "Sadykova", "Rakhimov", "Tokhtarov", "Kovalenko"),
    "es": ("García", "Rodríguez", "Benítez", "Quispe", "Morales", "Castillo", "Herrera"),
    "pt": ("Silva", "Macuácua", "Pereira", "Gomes", "Tavares", "Fernandes", "Lopes"),
    "zh": ("Zhang", "Wang", "Chen", "Liu"),
}

# (title, theme, language, description, [(webinar title, speakers)])
_SERIES = (
    (
        "Countering CBRN terrorism: webinar series",
        "cbrn",
        "en",
        "Eleven webinars on the legal framework against chemical, biological, radiological and "
        "nuclear terrorism, with practitioners from prosecution services and regulators.",
        (
            ("Introduction to the universal instruments", "Terrorism Prevention Branch"),
            ("Criminalising the misuse of radioactive material", "A. Rossi, N. Okafor"),
            ("Biological agents: investigation and evidence", "M. Chen, L. García"),
            ("Chemical weapons and the Chemical Weapons Convention", "H. Mansour"),
            ("Interagency cooperation in CBRN incidents", "K. Diallo, S. Perera"),
        ),
    ),
    (
        "Justice pénale et terrorisme au Sahel",
        "criminal_justice",
        "fr",
        "Une série de webinaires pour les magistrats et les enquêteurs du Sahel : preuve, "
        "coopération judiciaire et garanties du procès équitable.",
        (
            ("La preuve numérique devant les juridictions", "A. Maïga, C. Dubois"),
            ("L'entraide judiciaire dans la région", "O. Sow"),
            ("Les enfants associés aux groupes armés", "F. Ouédraogo, M. Koné"),
        ),
    ),
    (
        "Financiamiento del terrorismo en América Latina",
        "financing",
        "es",
        "Seminarios web para unidades de inteligencia financiera, fiscales y jueces sobre "
        "tipologías regionales y recuperación de activos.",
        (
            ("Tipologías regionales de financiamiento", "V. Benítez"),
            ("Activos virtuales y nuevas tecnologías de pago", "J. Quispe, S. Herrera"),
            ("Decomiso y recuperación de activos", "C. Morales"),
        ),
    ),
)

# (name, theme, language, region, description, host emails, expert emails, participant count);
# participants come from the countries of the room's region in ``_REGIONS`` (anywhere when it has
# none), as many as there are up to the count. Hosts are trainers; experts are trainers or
# practitioners who bring outside experience.
_ROOMS = (
    (
        "Sahel prosecutors: special investigative techniques",
        "criminal_justice",
        "fr",
        "Sahel",
        "Un espace privé pour les procureurs et juges d'instruction du Sahel : partage de "
        "pratiques sur les techniques spéciales d'enquête, modèles de réquisitions et sessions "
        "en direct avec des experts.",
        ("trainer@example.org",),
        ("trainer2@example.org", "fr.1@demo.example.org", "be.1@demo.example.org"),
        14,
    ),
    (
        "Central Asia: countering the financing of terrorism",
        "financing",
        "ru",
        "Central Asia",
        "Financial intelligence units, investigators and prosecutors from Central Asia share "
        "typologies, case studies and guidance on freezing and confiscating terrorist assets.",
        ("trainer2@example.org",),
        ("trainer@example.org", "ph.1@demo.example.org"),
        12,
    ),
    (
        "West Africa: electronic evidence network",
        "electronic_evidence",
        "fr",
        "West Africa",
        "Réseau des points de contact pour la preuve électronique : demandes de conservation, "
        "contacts avec les fournisseurs de services et formulaires types.",
        ("trainer@example.org",),
        ("be.2@demo.example.org", "my.1@demo.example.org"),
        10,
    ),
    (
        "Victims of terrorism: associations and practitioners",
        "victims",
        "en",
        "Global",
        "Victims' associations and justice practitioners exchange good practices on assistance, "
        "support and participation of victims in criminal proceedings.",
        ("trainer@example.org", "trainer2@example.org"),
        ("lb.1@demo.example.org", "tr.1@demo.example.org"),
        9,
    ),
)

#: the countries each room region draws its participants from
_REGIONS = {
    "Sahel": frozenset({"BF", "ML", "MR", "NE", "NG", "TD"}),
    "Central Asia": frozenset({"KG", "KZ", "TJ", "TM", "UZ"}),
    "West Africa": frozenset({"BF", "CV", "GW", "ML", "MR", "NE", "NG", "SN"}),
}

#: when each room was opened (or 60 days before loading, if that is earlier)
_ROOMS_OPENED = {
    "Sahel prosecutors: special investigative techniques": datetime(2025, 11, 17, 9, 0),
    "Central Asia: countering the financing of terrorism": datetime(2025, 12, 8, 5, 0),
    "West Africa: electronic evidence network": datetime(2026, 1, 12, 10, 0),
    "Victims of terrorism: associations and practitioners": datetime(2026, 2, 2, 14, 0),
}

_DEMO_PRACTITIONER_PASSWORD = "demo practitioner passphrase, not for real use"

# The series whose past webinars have a recording, captions and some slides, with views and
# downloads; the first is tied to an iRoom, so that only its members see it. The third series is
# scheduled from the day it is loaded: its webinars are still to come.
_RECORDED_SERIES = (
    "Countering CBRN terrorism: webinar series",
    "Justice pénale et terrorisme au Sahel",
)
_RESTRICTED_SERIES = {
    "Justice pénale et terrorisme au Sahel": "Sahel prosecutors: special investigative techniques"
}
_UPCOMING_SERIES = "Financiamiento del terrorismo en América Latina"

#: every recorded webinar gets this 20-second recording (how it was made: data/demo/README.md)
_SAMPLE_RECORDING = Path(__file__).parent / "data" / "demo" / "webinar-sample.webm"

# Captions for the 20 seconds of the sample recording, per language: (start, end, text), where
# {title} and {speakers} are the webinar's.
_CAPTION_CUES = {
    "en": (
        ("00:00.500", "00:04.000", "Good afternoon, and welcome to today's webinar:\n{title}."),
        (
            "00:04.000",
            "00:08.000",
            "The universal legal instruments require States to criminalise\n"
            "these offences and to cooperate in preventing them.",
        ),
        (
            "00:08.000",
            "00:12.500",
            "Our speakers, {speakers}, work on such cases\nfrom investigation to adjudication.",
        ),
        (
            "00:12.500",
            "00:16.500",
            "We will look at evidence, mutual legal assistance\nand fair trial guarantees.",
        ),
        (
            "00:16.500",
            "00:20.000",
            "Please send your questions through the chat;\n"
            "the slides will be available after the session.",
        ),
    ),
    "fr": (
        ("00:00.500", "00:04.000", "Bonjour et bienvenue à ce webinaire :\n{title}."),
        (
            "00:04.000",
            "00:08.000",
            "Les instruments juridiques universels imposent aux États\n"
            "d'ériger ces actes en infractions et de coopérer.",
        ),
        (
            "00:08.000",
            "00:12.500",
            "Nos intervenants, {speakers}, traitent ces affaires\nde l'enquête jusqu'au jugement.",
        ),
        (
            "00:12.500",
            "00:16.500",
            "Nous aborderons la preuve, l'entraide judiciaire\n"
            "et les garanties du procès équitable.",
        ),
        (
            "00:16.500",
            "00:20.000",
            "Posez vos questions dans le chat ;\n"
            "les diapositives seront disponibles après la séance.",
        ),
    ),
    "es": (
        ("00:00.500", "00:04.000", "Buenas tardes y bienvenidos a este seminario web:\n{title}."),
        (
            "00:04.000",
            "00:08.000",
            "Los instrumentos jurídicos universales obligan a los Estados\n"
            "a tipificar estos delitos y a cooperar para prevenirlos.",
        ),
        (
            "00:08.000",
            "00:12.500",
            "Nuestros ponentes, {speakers}, trabajan en estos casos\n"
            "desde la investigación hasta el juicio.",
        ),
        (
            "00:12.500",
            "00:16.500",
            "Hablaremos de la prueba, la asistencia judicial recíproca\n"
            "y las garantías del debido proceso.",
        ),
        (
            "00:16.500",
            "00:20.000",
            "Envíen sus preguntas por el chat;\n"
            "las diapositivas estarán disponibles después de la sesión.",
        ),
    ),
}


def _users_by_email() -> dict[str, User]:
    return {user.email: user for user in db.session.scalars(select(User))}


def _add_accounts(users: dict[str, User], rng: random.Random) -> int:
    added = 0
    now = datetime.now(UTC).replace(tzinfo=None)
    for account in DEMO_ACCOUNTS:
        if account.email in users:
            continue
        users[account.email] = User(
            email=account.email,
            name=account.name,
            password_hash=hash_password(account.password),
            role=account.role,
            country=account.country,
            organisation=account.organisation,
            agency_type=account.agency_type,
            gender=account.gender,
            language=account.language,
            time_zone=account.time_zone,
            email_confirmed_at=now,
        )
        db.session.add(users[account.email])
        added += 1
    shared_hash = None
    for number, (country, language, agency, organisation) in enumerate(_PRACTITIONER_PLACES):
        for copy in range(2 if number % 3 else 1):
            email = f"{country.lower()}.{copy + 1}@demo.example.org"
            if email in users:
                continue
            shared_hash = shared_hash or hash_password(_DEMO_PRACTITIONER_PASSWORD)
            name = f"{rng.choice(_GIVEN_NAMES[language])} {rng.choice(_FAMILY_NAMES[language])}"
            users[email] = User(
                email=email,
                name=name,
                password_hash=shared_hash,
                country=country,
                organisation=organisation,
                agency_type=agency,
                gender=rng.choice(("woman", "man", "woman", "man", "undisclosed")),
                language=language,
                email_confirmed_at=now - timedelta(days=rng.randint(1, 700)),
                created_at=now - timedelta(days=rng.randint(700, 900)),
            )
            db.session.add(users[email])
            added += 1
    return added


def _add_series(author: User) -> int:
    existing = set(db.session.scalars(select(WebinarSeries.title)))
    first = datetime(2026, 1, 14, 13, 0)
    # The upcoming series starts on the first Wednesday three weeks after it is loaded.
    soon = (datetime.now(UTC) + timedelta(days=21)).replace(
        tzinfo=None, hour=13, minute=0, second=0, microsecond=0
    )
    soon += timedelta(days=(2 - soon.weekday()) % 7)
    added = 0
    for number, (title, theme, language, description, webinars) in enumerate(_SERIES):
        if title in existing:
            continue
        start = soon if title == _UPCOMING_SERIES else first + timedelta(days=7 * number)
        series = WebinarSeries(
            title=title,
            description=description,
            theme=theme,
            language=language,
            created_by_id=author.id,
        )
        for index, (webinar_title, speakers) in enumerate(webinars):
            series.webinars.append(
                Webinar(
                    title=webinar_title,
                    starts_at=start + timedelta(days=35 * index),
                    speakers=speakers,
                    language=language,
                    description=f"{webinar_title}. {description}",
                )
            )
        db.session.add(series)
        added += 1 + len(webinars)
    return added


def _add_rooms(users: dict[str, User]) -> int:
    rooms = {room.name: room for room in db.session.scalars(select(Room))}
    members = {
        tuple(row) for row in db.session.execute(select(Membership.room_id, Membership.user_id))
    }
    now = datetime.now(UTC).replace(tzinfo=None)
    # Only the generated practitioners, so that an account registered since cannot change the
    # draw and make a second load add other members.
    practitioners = sorted(
        (user for user in users.values() if user.email.endswith("@demo.example.org")),
        key=lambda user: user.email,
    )
    added = 0
    for name, theme, language, region, description, hosts, experts, count in _ROOMS:
        room = rooms.get(name)
        if room is None:
            room = Room(
                name=name,
                description=description,
                theme=theme,
                language=language,
                region_focus=region,
                created_by_id=users[hosts[0]].id,
                created_at=min(_ROOMS_OPENED[name], now - timedelta(days=60)),
            )
            db.session.add(room)
            db.session.flush()
            added += 1
        countries = _REGIONS.get(region)
        pool = [
            user
            for user in practitioners
            if user.email not in experts and (countries is None or user.country in countries)
        ]
        chosen = random.Random(name).sample(pool, min(count, len(pool)))
        wanted = [(users[email], "host") for email in hosts]
        wanted += [(users[email], "expert") for email in experts]
        wanted += [(user, "participant") for user in chosen]
        wanted.append((users["practitioner@example.org"], "participant"))
        for user, role in wanted:
            if (room.id, user.id) in members:
                continue
            members.add((room.id, user.id))
            # Hosts from the first day, experts in the first fortnight, participants as they
            # were invited over the first months.
            days = {"host": 0, "expert": 14, "participant": 75}[role]
            joined = room.created_at + timedelta(
                days=random.Random(f"{name}/{user.email}").uniform(0, days)
            )
            db.session.add(
                Membership(room_id=room.id, user_id=user.id, role=role, joined_at=min(joined, now))
            )
            added += 1
    return added


def _add_learners(users: dict[str, User]) -> int:
    """Practitioners at every stage: asked to enrol, enrolled, part-way, failed a test, done."""
    practitioners = sorted(
        (user for user in users.values() if user.email.endswith("@demo.example.org")),
        key=lambda user: user.email,
    )
    practitioners.insert(0, users["practitioner@example.org"])
    have = {
        (module_id, user_id)
        for module_id, user_id in db.session.execute(select(Enrolment.module_id, Enrolment.user_id))
    }
    have_before = set(have)
    added = 0
    modules = db.session.scalars(
        select(Module).where(Module.is_published).order_by(Module.id)
    ).all()
    for module in modules:
        draw = random.Random(module.title)
        learners = draw.sample(practitioners[1:], 10)
        if module.title in {
            "Countering the financing of terrorism",
            "Requesting electronic evidence across borders",
            "Supporting victims of terrorism in criminal proceedings",
        }:
            learners.insert(0, practitioners[0])
        for stage, learner in enumerate(learners):
            if (module.id, learner.id) in have:
                continue
            have.add((module.id, learner.id))
            if module.enrolment_mode == "invitation":
                courses.invite(module, [learner], actor=users["trainer2@example.org"])
                enrolment = courses.enrolment_of(module, learner)
            else:
                enrolment = courses.enrol(module, learner)
            added += 1
            if enrolment.status != "active" or stage % 5 == 4:
                continue  # waiting for approval, or enrolled and not started
            lessons = module.lessons
            todo = lessons if stage % 5 in (0, 1) else lessons[: max(1, len(lessons) // 2)]
            for lesson in todo:
                courses.open_lesson(enrolment, lesson)
                courses.mark_done(enrolment, lesson)
            post_test = courses.quiz_of(module, "post_test")
            if post_test is None or len(todo) < len(lessons):
                continue
            if stage % 5 == 1:  # failed once, not yet passed
                attempt = courses.start_attempt(post_test, learner)
                courses.submit_attempt(attempt, {})
                continue
            attempt = courses.start_attempt(post_test, learner)
            right = {
                question.id: {option.id for option in question.options if option.is_correct}
                for question in post_test.questions
            }
            if learner.id % 3 == 0 and len(right) > 2:  # passed with one answer wrong
                right.pop(post_test.questions[-1].id)
            courses.submit_attempt(attempt, right)
    db.session.flush()
    _spread_over_time(new_enrolments(have_before))
    return added


def new_enrolments(had: set[tuple[int, int]]) -> list[Enrolment]:
    """The enrolments added since ``had`` (module id, user id) was read."""
    return [
        enrolment
        for enrolment in db.session.scalars(select(Enrolment))
        if (enrolment.module_id, enrolment.user_id) not in had
    ]


def _spread_over_time(enrolments: list[Enrolment]) -> None:
    """Move each new enrolment, with its progress, attempts and certificate, back to a day in the
    last eighteen months, so that the statistics show a history rather than one afternoon."""
    for enrolment in enrolments:
        published = enrolment.module.published_at or enrolment.requested_at
        # never before the module was published
        longest = max(1, min(540, (enrolment.requested_at - published).days - 1))
        back = timedelta(
            days=random.Random(f"{enrolment.module_id}-{enrolment.user_id}").randint(
                min(3, longest), longest
            )
        )
        for name in ("requested_at", "enrolled_at", "started_at", "last_activity_at"):
            if getattr(enrolment, name) is not None:
                setattr(enrolment, name, getattr(enrolment, name) - back)
        if enrolment.completed_at is not None:
            took = timedelta(days=min((back.days % 5) * 4, back.days - 1))  # days to complete
            enrolment.completed_at -= back - took
        for progress in db.session.scalars(
            select(LessonProgress).where(LessonProgress.enrolment_id == enrolment.id)
        ):
            progress.done_at -= back
        for attempt in db.session.scalars(
            select(QuizAttempt)
            .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
            .where(Quiz.module_id == enrolment.module_id, QuizAttempt.user_id == enrolment.user_id)
        ):
            attempt.started_at -= back
            if attempt.submitted_at is not None:
                attempt.submitted_at -= back
        for certificate in db.session.scalars(
            select(Certificate).where(Certificate.enrolment_id == enrolment.id)
        ):
            certificate.issued_at = enrolment.completed_at or certificate.issued_at - back
    db.session.flush()


def _restrict_series(rooms_by_series: dict[str, str]) -> int:
    """Tie each series of ``rooms_by_series`` to its iRoom, unless it is tied already."""
    added = 0
    for title, room_name in rooms_by_series.items():
        series = db.session.scalar(select(WebinarSeries).where(WebinarSeries.title == title))
        room = db.session.scalar(select(Room).where(Room.name == room_name))
        if series is None or room is None or room in series.rooms:
            continue
        series.rooms.append(room)
        added += 1
    db.session.flush()
    return added


def _webvtt(webinar: Webinar, language: str) -> bytes:
    """Captions in ``language`` for the sample recording, naming ``webinar``."""
    cues = [
        f"{number}\n{start} --> {end}\n"
        + text.format(title=webinar.title, speakers=webinar.speakers or "our experts")
        for number, (start, end, text) in enumerate(_CAPTION_CUES[language], start=1)
    ]
    return ("WEBVTT\n\n" + "\n\n".join(cues) + "\n").encode()


def _pdf_text(text: str) -> bytes:
    """``text`` as a PDF string literal in WinAnsiEncoding."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("cp1252", errors="replace") + b")"


def _slides_pdf(webinar: Webinar) -> bytes:
    """A one-page PDF, A4 landscape, with the webinar's title: its demo slides."""
    title = textwrap.wrap(webinar.title, 38)
    lines = [
        b"0.114 0.208 0.341 rg 0 515 842 80 re f",
        b"BT /F2 16 Tf 1 1 1 rg 50 548 Td " + _pdf_text(webinar.series.title) + b" Tj ET",
        b"BT /F1 32 Tf 0.114 0.208 0.341 rg 50 430 Td 40 TL",
        *(_pdf_text(line) + b" Tj T*" for line in title),
        b"ET",
        b"BT /F2 18 Tf 0.2 0.2 0.2 rg 50 230 Td 26 TL",
        _pdf_text(webinar.speakers or "") + b" Tj T*",
        _pdf_text(f"{webinar.starts_at:%Y-%m-%d %H:%M} UTC") + b" Tj ET",
        b"1 0.82 0.4 rg 50 120 742 6 re f",
        b"BT /F2 11 Tf 0.4 0.4 0.4 rg 50 90 Td "
        + _pdf_text("Demo slides - counter-terrorism learning platform")
        + b" Tj ET",
    ]
    return _pdf([b"\n".join(lines) + b"\n"], width=842, height=595)


def _pdf(pages: list[bytes], *, width: int, height: int) -> bytes:
    """A PDF of ``pages``, each given as its content stream, in two standard fonts: /F1
    Helvetica-Bold and /F2 Helvetica.

    Written by hand: a catalogue, the pages, the two fonts and a content stream per page, with
    the cross-reference table giving where each object starts.
    """
    first_page = 5  # after the catalogue, the page tree and the two fonts
    kids = b" ".join(b"%d 0 R" % (first_page + 2 * index) for index in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for index, content in enumerate(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] " % (width, height)
            + b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>"
            % (first_page + 2 * index + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream")
    pdf = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(pdf)


def _add_recordings(users: dict[str, User]) -> dict[str, int]:
    """Recordings, captions and slides for the past webinars of the recorded series, then the
    views and downloads of demo practitioners since each webinar, over the past 12 months at most.

    A webinar gets what it lacks: a recording, captions in English and in its own language,
    slides for every other webinar, and events if it has none yet.
    """
    now = datetime.now(UTC).replace(tzinfo=None)
    added = dict.fromkeys(
        ("webinar recordings", "caption files", "slide decks", "recording views and downloads"), 0
    )
    demo_practitioners = {
        account.email for account in DEMO_ACCOUNTS if account.role == "practitioner"
    }
    practitioners = sorted(
        (
            user
            for email, user in users.items()
            if email in demo_practitioners or email.endswith("@demo.example.org")
        ),
        key=lambda user: user.email,
    )
    series_list = db.session.scalars(
        select(WebinarSeries)
        .where(WebinarSeries.title.in_(_RECORDED_SERIES))
        .order_by(WebinarSeries.id)
    ).all()
    for series in series_list:
        uploader = db.session.get(User, series.created_by_id)
        audience = practitioners
        if series.rooms:
            room_ids = [room.id for room in series.rooms]
            members = set(
                db.session.scalars(
                    select(Membership.user_id).where(Membership.room_id.in_(room_ids))
                )
            )
            audience = [user for user in practitioners if user.id in members]
        for index, webinar in enumerate(series.webinars):
            if webinar.starts_at >= now:
                continue
            if webinar.recording is None:
                with _SAMPLE_RECORDING.open("rb") as sample:
                    webinar.recording = save_upload(
                        sample,
                        f"{webinar.title}.webm",
                        allowed=RECORDING_TYPES,
                        max_bytes=current_app.config["RECORDING_MAX_BYTES"],
                        uploaded_by=uploader,
                    )
                added["webinar recordings"] += 1
            have = {caption.language for caption in webinar.captions}
            for language in dict.fromkeys(("en", webinar.language)):
                if language in have or language not in _CAPTION_CUES:
                    continue
                stored = save_upload(
                    io.BytesIO(_webvtt(webinar, language)),
                    f"{webinar.title} ({language}).vtt",
                    allowed=CAPTION_TYPES,
                    uploaded_by=uploader,
                )
                webinar.captions.append(Caption(language=language, stored_file=stored))
                added["caption files"] += 1
            if index % 2 == 0 and webinar.slides is None:
                webinar.slides = save_upload(
                    io.BytesIO(_slides_pdf(webinar)),
                    f"{webinar.title} - slides.pdf",
                    allowed={PDF},
                    uploaded_by=uploader,
                )
                added["slide decks"] += 1
            db.session.flush()
            added["recording views and downloads"] += _add_recording_events(webinar, audience, now)
    db.session.flush()
    return added


def _add_recording_events(webinar: Webinar, audience: list[User], now: datetime) -> int:
    """Views and downloads of ``webinar``'s files by ``audience``, unless it has events already.

    Most come in the weeks after the webinar, fewer as the months pass.
    """
    if not audience or db.session.scalar(
        select(RecordingEvent.id).where(RecordingEvent.webinar_id == webinar.id).limit(1)
    ):
        return 0
    since = max(webinar.starts_at + timedelta(hours=2), now - timedelta(days=365))
    span = (now - since).total_seconds()
    if span <= 0:
        return 0
    draw = random.Random(webinar.title)
    wanted = [(VIEW, webinar.recording_id)] * draw.randint(18, 45)
    wanted += [(DOWNLOAD, webinar.recording_id)] * draw.randint(3, 12)
    if webinar.slides_id is not None:
        wanted += [(SLIDES, webinar.slides_id)] * draw.randint(2, 9)
    events = [
        RecordingEvent(
            webinar_id=webinar.id,
            kind=kind,
            user_id=draw.choice(audience).id,
            stored_file_id=stored_file_id,
            at=since + timedelta(seconds=int(span * draw.random() ** 2)),
        )
        for kind, stored_file_id in wanted
    ]
    db.session.add_all(sorted(events, key=lambda event: event.at))
    return len(events)


# What happens in the rooms: their libraries, live sessions, invitation links and members' visits.
_SAHEL = "Sahel prosecutors: special investigative techniques"
_CENTRAL_ASIA = "Central Asia: countering the financing of terrorism"
_WEST_AFRICA = "West Africa: electronic evidence network"
_VICTIMS = "Victims of terrorism: associations and practitioners"

_UNODC_TPB = "United Nations Office on Drugs and Crime - Terrorism Prevention Branch"
_ONUDC_TPB = "Office des Nations Unies contre la drogue et le crime - Service de la prévention du "
_ONUDC_TPB += "terrorisme"


@dataclass(frozen=True)
class _Item:
    """A resource of a room's library, added ``days_ago`` days before loading."""

    title: str
    category: str
    language: str
    description: str
    #: lower-case words separated by commas, as the library keeps them
    tags: str
    days_ago: int
    #: ``file``, ``module``, ``series`` or ``link``
    kind: str = "file"
    #: the module's or series' title, or the address, for the kinds other than files
    target: str = ""
    #: for a file: the publisher on its title page and the paragraphs of its summary page
    publisher: str = ""
    summary: tuple[str, ...] = ()
    #: for a file with a second version: how many days before loading it was uploaded, and what
    #: changed in it
    revised_days_ago: int | None = None
    revision: str = ""
    #: who added it: the room's first ``host`` or its first ``expert``
    added_by: str = "host"


_LIBRARIES = {
    _SAHEL: (
        _Item(
            "Manuel sur les techniques spéciales d'enquête dans les affaires de terrorisme",
            "manual",
            "fr",
            "Cadre juridique et conditions de mise en œuvre des interceptions, de l'infiltration, "
            "des livraisons surveillées et de la géolocalisation ; contrôle du juge et "
            "recevabilité des preuves ainsi obtenues.",
            "techniques spéciales d'enquête,interceptions,infiltration,recevabilité",
            300,
            publisher=_ONUDC_TPB,
            summary=(
                "Ce manuel s'adresse aux procureurs, aux juges d'instruction et aux officiers de "
                "police judiciaire chargés des affaires de terrorisme.",
                "Il présente, pour chaque technique spéciale d'enquête, les conditions posées "
                "par la loi, l'autorisation et le contrôle du juge, la durée des mesures et les "
                "garanties qui assurent la recevabilité des preuves devant la juridiction.",
                "Des exemples tirés de la pratique des pôles judiciaires spécialisés du Sahel "
                "illustrent chaque chapitre.",
            ),
        ),
        _Item(
            "Modèles de réquisitions : interceptions, sonorisation et livraisons surveillées",
            "guide",
            "fr",
            "Modèles commentés de réquisitions et d'ordonnances, à adapter à votre législation "
            "nationale. La version 2 ajoute un modèle de demande d'entraide pour une livraison "
            "surveillée transfrontalière.",
            "modèles,réquisitions,interceptions,livraisons surveillées",
            210,
            publisher=_ONUDC_TPB,
            summary=(
                "Ces modèles ont été préparés avec les membres du réseau après l'atelier "
                "régional sur les techniques spéciales d'enquête.",
                "Chaque modèle indique les mentions obligatoires, les pièces à joindre et les "
                "erreurs qui ont conduit des juridictions à écarter des preuves.",
            ),
            revised_days_ago=4,
            revision="Version 2 : ajout d'un modèle de demande d'entraide judiciaire pour une "
            "livraison surveillée transfrontalière et mise à jour des références légales.",
        ),
        _Item(
            "Compte rendu de l'atelier régional de Niamey sur la preuve numérique",
            "report",
            "fr",
            "Conclusions de l'atelier : saisie et exploitation des téléphones, conservation des "
            "données et présentation de la preuve numérique à l'audience.",
            "atelier,preuve numérique,niamey",
            150,
            publisher=_ONUDC_TPB,
            summary=(
                "L'atelier a réuni des procureurs, des juges d'instruction et des enquêteurs du "
                "Burkina Faso, du Mali, de la Mauritanie, du Niger et du Tchad.",
                "Les participants recommandent de désigner des points de contact pour la preuve "
                "numérique dans chaque pôle spécialisé et de former les greffiers à la "
                "conservation des scellés numériques.",
            ),
        ),
        _Item(
            "Synthèse de la séance : livraisons surveillées et coopération transfrontalière",
            "report",
            "fr",
            "Points clés de la séance en direct, questions des participants et réponses des "
            "experts.",
            "livraisons surveillées,coopération judiciaire,synthèse",
            6,
            publisher=_ONUDC_TPB,
            summary=(
                "La séance a porté sur la préparation d'une livraison surveillée entre deux "
                "États, le rôle des autorités centrales et la coordination entre enquêteurs.",
                "Les experts ont rappelé l'importance d'un accord écrit préalable sur la "
                "conduite de l'opération et sur l'utilisation des preuves recueillies.",
            ),
            added_by="expert",
        ),
        _Item(
            "Résolution 2396 (2017) du Conseil de sécurité",
            "key_resolution",
            "fr",
            "Combattants terroristes étrangers de retour ou se réinstallant : poursuites, "
            "réhabilitation et réinsertion, utilisation des éléments de preuve recueillis dans "
            "les zones de conflit.",
            "résolution 2396,combattants terroristes étrangers,conseil de sécurité",
            280,
            kind="link",
            target="https://undocs.org/fr/S/RES/2396(2017)",
        ),
        _Item(
            "Résolution 2178 (2014) du Conseil de sécurité",
            "key_resolution",
            "fr",
            "Obligation pour les États d'ériger en infractions graves le voyage, le recrutement "
            "et le financement des combattants terroristes étrangers.",
            "résolution 2178,combattants terroristes étrangers,conseil de sécurité",
            280,
            kind="link",
            target="https://undocs.org/fr/S/RES/2178(2014)",
        ),
        _Item(
            "Lutte contre le financement du terrorisme",
            "module",
            "fr",
            "Module d'autoformation de la plateforme, à suivre avant la séance sur les enquêtes "
            "financières.",
            "financement du terrorisme,autoformation",
            200,
            kind="module",
            target="Lutte contre le financement du terrorisme",
        ),
        _Item(
            "Justice pénale et terrorisme au Sahel",
            "series",
            "fr",
            "Les enregistrements, sous-titres et diapositives des webinaires de la série, "
            "réservés aux membres de cet iRoom.",
            "webinaires,enregistrements",
            320,
            kind="series",
            target="Justice pénale et terrorisme au Sahel",
        ),
        _Item(
            "Service de la prévention du terrorisme de l'ONUDC",
            "other",
            "en",
            "Le programme mondial de l'ONUDC contre le terrorisme : publications, outils et "
            "actualités (en anglais).",
            "onudc,publications",
            320,
            kind="link",
            target="https://www.unodc.org/unodc/en/terrorism/index.html",
        ),
    ),
    _CENTRAL_ASIA: (
        _Item(
            "Financial investigations in terrorism cases: training manual",
            "manual",
            "en",
            "Учебное пособие для следователей и прокуроров: выявление и отслеживание средств, "
            "параллельные финансовые расследования, замораживание и конфискация активов "
            "(на английском языке).",
            "финансовые расследования,финансирование терроризма,конфискация",
            260,
            publisher=_UNODC_TPB,
            summary=(
                "This manual is for investigators, prosecutors and financial intelligence "
                "analysts who work on terrorism cases.",
                "It follows a case from the first suspicious transaction report to the "
                "confiscation order: parallel financial investigations, tracing funds through "
                "banks, money or value transfer services and virtual assets, and freezing them "
                "under Security Council resolution 1373 (2001).",
            ),
        ),
        _Item(
            "Freezing terrorist assets without delay: a practical guide",
            "guide",
            "en",
            "Практическое руководство по применению адресных финансовых санкций согласно "
            "резолюции 1373 (2001): процедуры, сроки, роль подразделений финансовой разведки. "
            "Версия 2 учитывает обновлённые Рекомендации ФАТФ.",
            "адресные финансовые санкции,замораживание активов,резолюция 1373",
            220,
            publisher=_UNODC_TPB,
            summary=(
                "Targeted financial sanctions must be applied without delay. This guide sets "
                "out who decides, who is notified and what the financial institutions must do "
                "within hours of a designation.",
                "Checklists cover national designations, requests from other States and the "
                "rights of persons whose assets are frozen.",
            ),
            revised_days_ago=70,
            revision="Version 2: updated for the revised FATF Recommendation 8 and the latest "
            "guidance on non-profit organisations.",
        ),
        _Item(
            "Regional workshop on terrorist financing typologies, Almaty: summary report",
            "report",
            "en",
            "Итоги регионального семинара в Алматы: типологии финансирования терроризма, "
            "виртуальные активы, денежные переводы и некоммерческие организации.",
            "типологии,виртуальные активы,некоммерческие организации",
            110,
            publisher=_UNODC_TPB,
            summary=(
                "Financial intelligence units, investigators and prosecutors from Kazakhstan, "
                "Kyrgyzstan, Tajikistan, Turkmenistan and Uzbekistan compared the typologies "
                "they meet most often.",
                "Participants asked for joint training with the private sector on virtual "
                "assets and for a regional contact list of financial intelligence units.",
            ),
            added_by="expert",
        ),
        _Item(
            "Резолюция 1373 (2001) Совета Безопасности",
            "key_resolution",
            "ru",
            "Обязывает все государства криминализировать финансирование терроризма и "
            "незамедлительно замораживать средства лиц, совершающих террористические акты.",
            "резолюция 1373,совет безопасности,финансирование терроризма",
            280,
            kind="link",
            target="https://undocs.org/ru/S/RES/1373(2001)",
        ),
        _Item(
            "Резолюция 2462 (2019) Совета Безопасности",
            "key_resolution",
            "ru",
            "Предотвращение и пресечение финансирования терроризма: финансовые расследования, "
            "оценка рисков, сотрудничество государственных органов и частного сектора.",
            "резолюция 2462,совет безопасности,финансирование терроризма",
            280,
            kind="link",
            target="https://undocs.org/ru/S/RES/2462(2019)",
        ),
        _Item(
            "FATF Recommendations",
            "guide",
            "en",
            "Международные стандарты по противодействию отмыванию денег и финансированию "
            "терроризма; финансированию терроризма посвящены рекомендации 5, 6, 7 и 8.",
            "фатф,стандарты,рекомендации",
            250,
            kind="link",
            target="https://www.fatf-gafi.org/en/publications/Fatfrecommendations/"
            "Fatf-recommendations.html",
        ),
        _Item(
            "Countering the financing of terrorism",
            "module",
            "en",
            "Электронный модуль платформы на английском языке; рекомендуется пройти до "
            "семинара по финансовым расследованиям.",
            "электронный модуль,финансирование терроризма",
            200,
            kind="module",
            target="Countering the financing of terrorism",
        ),
        _Item(
            "Financiamiento del terrorismo en América Latina",
            "series",
            "es",
            "Серия вебинаров на испанском языке: региональные типологии и виртуальные активы; "
            "полезна для сравнения практики Латинской Америки и Центральной Азии.",
            "вебинары,типологии",
            20,
            kind="series",
            target="Financiamiento del terrorismo en América Latina",
        ),
    ),
    _WEST_AFRICA: (
        _Item(
            "Guide pratique pour les demandes de preuves électroniques transfrontières",
            "guide",
            "fr",
            "Étapes pour conserver et obtenir des données auprès des fournisseurs de services "
            "étrangers : demandes de conservation, divulgation d'urgence et entraide judiciaire.",
            "preuve électronique,conservation des données,entraide judiciaire",
            240,
            publisher=_ONUDC_TPB,
            summary=(
                "Le guide aide les enquêteurs, les procureurs et les autorités centrales à "
                "obtenir des données détenues par des fournisseurs de services à l'étranger.",
                "Il décrit les demandes de conservation, la divulgation volontaire et "
                "d'urgence, et la rédaction d'une demande d'entraide judiciaire qui réponde aux "
                "exigences de l'État requis.",
            ),
            revised_days_ago=25,
            revision="Version 2 : cartographie des fournisseurs de services mise à jour et "
            "nouvelles études de cas sur la recevabilité de la preuve électronique.",
        ),
        _Item(
            "Formulaire type de demande de conservation de données",
            "other",
            "fr",
            "Modèle à adapter pour demander à un fournisseur de services de conserver des données "
            "en attendant une demande d'entraide judiciaire.",
            "formulaire,conservation des données,modèle",
            200,
            publisher=_ONUDC_TPB,
            summary=(
                "Ce formulaire reprend les informations que les principaux fournisseurs de "
                "services demandent : identifiants du compte, période visée, fondement légal et "
                "coordonnées de l'autorité requérante.",
            ),
            added_by="expert",
        ),
        _Item(
            "Manuel de formation : la preuve électronique dans les enquêtes antiterroristes",
            "manual",
            "fr",
            "Support des formations du réseau : notions techniques, cadre juridique, saisie et "
            "analyse des supports, chaîne de conservation.",
            "preuve électronique,formation,chaîne de conservation",
            180,
            publisher=_ONUDC_TPB,
            summary=(
                "Le manuel accompagne les formations organisées pour les points de contact du "
                "réseau et peut être utilisé par les écoles de magistrature.",
                "Chaque chapitre se termine par un cas pratique et des questions d'évaluation.",
            ),
        ),
        _Item(
            "Rapport de la réunion annuelle des points de contact, Dakar",
            "report",
            "fr",
            "Bilan des demandes traitées par le réseau, difficultés rencontrées avec les "
            "fournisseurs de services et recommandations pour l'année à venir.",
            "réunion annuelle,points de contact,dakar",
            60,
            publisher=_ONUDC_TPB,
            summary=(
                "Les points de contact ont présenté les demandes de conservation et de "
                "divulgation adressées aux fournisseurs de services pendant l'année.",
                "La réunion recommande d'harmoniser les formulaires et de publier un répertoire "
                "des points de contact tenu à jour chaque semestre.",
            ),
        ),
        _Item(
            "Résolution 2322 (2016) du Conseil de sécurité",
            "key_resolution",
            "fr",
            "Coopération judiciaire internationale contre le terrorisme, y compris l'échange de "
            "preuves électroniques et le renforcement des autorités centrales.",
            "résolution 2322,coopération judiciaire,conseil de sécurité",
            230,
            kind="link",
            target="https://undocs.org/fr/S/RES/2322(2016)",
        ),
        _Item(
            "SHERLOC : preuve électronique",
            "other",
            "en",
            "Portail SHERLOC de l'ONUDC : législations, jurisprudence et outils sur la preuve "
            "électronique, dont le guide pratique (en anglais).",
            "sherloc,jurisprudence,législation",
            230,
            kind="link",
            target="https://sherloc.unodc.org/cld/v3/sherloc/index.jspx?tmpl=cybrepo",
            added_by="expert",
        ),
        _Item(
            "Requesting electronic evidence across borders",
            "module",
            "en",
            "Module d'autoformation (en anglais) qui accompagne le guide pratique.",
            "autoformation,preuve électronique",
            210,
            kind="module",
            target="Requesting electronic evidence across borders",
        ),
        _Item(
            "Countering CBRN terrorism: webinar series",
            "series",
            "en",
            "Série ouverte à tous ; le webinaire sur les agents biologiques traite de la "
            "collecte et de la conservation des preuves.",
            "webinaires,nrbc",
            150,
            kind="series",
            target="Countering CBRN terrorism: webinar series",
        ),
    ),
}

#: words of a document's pages, per language: summary heading, version line, footer
_DOCUMENT_WORDS = {
    "fr": (
        "Résumé",
        "Version {number} du {date}",
        "Document de démonstration - plateforme d'apprentissage contre le terrorisme",
    ),
    "en": (
        "Summary",
        "Version {number}, {date}",
        "Demo document - counter-terrorism learning platform",
    ),
}

#: downloads of a file, by category: (fewest, most)
_DOWNLOADS = {"manual": (25, 40), "guide": (12, 24), "report": (6, 14), "other": (5, 12)}


@dataclass(frozen=True)
class _Session:
    """A live session of a room: ``weeks`` before loading (negative) or the ``weeks``-th one to
    come (1 is the first Tuesday at least a week after loading); or, with ``recording``, at the
    time of that webinar of the series the room's members see, which holds its recording."""

    title: str
    agenda: str
    weeks: int = 0
    recording: tuple[str, str] | None = None
    #: days before loading an upcoming session was scheduled
    scheduled_days_ago: int = 14


_SESSIONS = {
    _SAHEL: (
        _Session(
            "Les interceptions judiciaires : cadre légal et contrôle du juge",
            "1. Tour de table : les interceptions dans vos législations\n"
            "2. Autorisation, durée et renouvellement : le rôle du juge\n"
            "3. Cas pratique : une écoute contestée devant la chambre d'accusation\n"
            "À préparer : les dispositions de votre code de procédure pénale.",
            weeks=-12,
        ),
        _Session(
            "Séance commune : la preuve numérique devant les juridictions",
            "Séance en direct du webinaire de la série « Justice pénale et terrorisme au Sahel », "
            "suivie de questions réservées aux membres de l'iRoom.\n"
            "1. Présentation des intervenants\n"
            "2. Questions des participants",
            recording=(
                "Justice pénale et terrorisme au Sahel",
                "La preuve numérique devant les juridictions",
            ),
        ),
        _Session(
            "Livraisons surveillées et coopération transfrontalière",
            "1. Préparer une livraison surveillée entre deux États\n"
            "2. Le rôle des autorités centrales\n"
            "3. Questions aux experts\n"
            "La synthèse de la séance sera déposée dans la bibliothèque.",
            weeks=-3,
        ),
        _Session(
            "L'infiltration : retour d'expérience et garanties procédurales",
            "1. Retour d'expérience d'un pôle judiciaire spécialisé\n"
            "2. Protection de l'agent infiltré et droits de la défense\n"
            "3. Discussion\n"
            "À lire avant la séance : chapitre 4 du manuel sur les techniques spéciales "
            "d'enquête.",
            weeks=1,
            scheduled_days_ago=3,
        ),
        _Session(
            "Atelier : rédiger une réquisition d'interception",
            "Exercice en petits groupes à partir des modèles de réquisitions (version 2), puis "
            "mise en commun.",
            weeks=5,
            scheduled_days_ago=1,
        ),
    ),
    _CENTRAL_ASIA: (
        _Session(
            "Замораживание активов: практика применения резолюции 1373 (2001)",
            "1. Национальные процедуры включения в перечни\n"
            "2. Запросы других государств\n"
            "3. Вопросы и ответы\n"
            "Подготовьте, пожалуйста, краткий пример из практики вашего ведомства.",
            weeks=-10,
        ),
        _Session(
            "Виртуальные активы и финансирование терроризма",
            "1. Типологии, выявленные в регионе\n"
            "2. Отслеживание транзакций: возможности и ограничения\n"
            "3. Запросы провайдерам услуг виртуальных активов",
            weeks=-4,
        ),
        _Session(
            "Параллельные финансовые расследования",
            "1. Когда начинать финансовое расследование\n"
            "2. Разбор дела: подозрительная операция, расследование, конфискация\n"
            "3. Обсуждение",
            weeks=1,
            scheduled_days_ago=12,
        ),
    ),
    _WEST_AFRICA: (
        _Session(
            "Demandes de conservation : cas pratiques avec les fournisseurs de services",
            "1. Les informations que demandent les fournisseurs\n"
            "2. Trois demandes refusées, et pourquoi\n"
            "3. Le formulaire type du réseau",
            weeks=-8,
        ),
        _Session(
            "Divulgation d'urgence : procédures et délais",
            "1. Quand une demande est-elle urgente ?\n"
            "2. Les procédures des principaux fournisseurs\n"
            "3. Questions des points de contact",
            weeks=-2,
        ),
        _Session(
            "Présentation de la mise à jour du guide pratique",
            "1. Ce qui change dans la version 2 du guide\n"
            "2. Nouvelles études de cas sur la recevabilité\n"
            "3. Discussion",
            weeks=2,
            scheduled_days_ago=5,
        ),
    ),
}

#: the hour, UTC, of each room's sessions: midday or early afternoon where its members are
_SESSION_HOURS = {_SAHEL: 13, _CENTRAL_ASIA: 7, _WEST_AFRICA: 13}
#: the name of each room's video-conference rooms
_CONFERENCE_SLUGS = {_SAHEL: "sahel-tse", _CENTRAL_ASIA: "ca-cft", _WEST_AFRICA: "ao-preuve"}


@dataclass(frozen=True)
class _Invitation:
    """An invitation link created ``created_days_ago`` days before loading, valid ``days``."""

    note: str
    role: str
    max_uses: int
    uses: int
    created_days_ago: int
    days: int
    revoked_days_ago: int | None = None


_INVITATIONS = {
    _SAHEL: (
        _Invitation(
            "Juges d'instruction du pôle antiterroriste de Niamey", "participant", 5, 1, 6, 14
        ),
        _Invitation(
            "Procureurs de N'Djamena, après la séance sur les interceptions",
            "participant",
            4,
            2,
            60,
            14,
        ),
        _Invitation("Envoyé par erreur à une liste de diffusion", "participant", 10, 0, 10, 30, 9),
    ),
    _CENTRAL_ASIA: (
        _Invitation("Эксперты подразделения финансовой разведки", "expert", 2, 0, 4, 14),
    ),
    _WEST_AFRICA: (
        _Invitation(
            "Points de contact de Guinée-Bissau et du Cap-Vert", "participant", 4, 1, 8, 21
        ),
    ),
    _VICTIMS: (
        _Invitation("Representatives of victims' associations", "participant", 10, 3, 12, 30),
    ),
}

#: days before loading practitioner@example.org last visited each room; ``None``: never
_DEMO_PRACTITIONER_VISITS = {_SAHEL: 9, _CENTRAL_ASIA: None, _WEST_AFRICA: 40, _VICTIMS: 1}


def _document_pdf(item: _Item, number: int, dated: datetime) -> bytes:
    """A two-page PDF, A4 portrait, standing for ``item``'s file: a title page and a summary."""
    heading, version, footer = _DOCUMENT_WORDS.get(item.language, _DOCUMENT_WORDS["en"])
    version = version.format(number=number, date=f"{dated:%Y-%m-%d}")
    title = textwrap.wrap(item.title, 36)
    publisher = textwrap.wrap(item.publisher, 70)
    cover = [
        b"0.114 0.208 0.341 rg 0 722 595 120 re f",
        b"BT /F2 11 Tf 1 1 1 rg 60 790 Td 15 TL",
        *(_pdf_text(line) + b" Tj T*" for line in publisher),
        b"ET",
        b"BT /F1 24 Tf 0.114 0.208 0.341 rg 60 600 Td 31 TL",
        *(_pdf_text(line) + b" Tj T*" for line in title),
        b"ET",
        b"BT /F2 13 Tf 0.2 0.2 0.2 rg 60 200 Td " + _pdf_text(version) + b" Tj ET",
        b"1 0.82 0.4 rg 60 170 475 5 re f",
        b"BT /F2 9 Tf 0.4 0.4 0.4 rg 60 60 Td " + _pdf_text(footer) + b" Tj ET",
    ]
    paragraphs = [*item.summary, *((item.revision,) if number > 1 and item.revision else ())]
    text = [b"BT /F1 16 Tf 0.114 0.208 0.341 rg 60 770 Td " + _pdf_text(heading) + b" Tj ET"]
    text.append(b"BT /F2 11 Tf 0.1 0.1 0.1 rg 60 735 Td 16 TL")
    for paragraph in paragraphs:
        text += [_pdf_text(line) + b" Tj T*" for line in textwrap.wrap(paragraph, 84)]
        text.append(b"T*")
    text.append(b"ET")
    pages = [b"\n".join(cover) + b"\n", b"\n".join(text) + b"\n"]
    return _pdf(pages, width=595, height=842)


def _room_people(room: Room) -> tuple[dict[str, list[Membership]], dict[int, datetime]]:
    """The room's memberships by role, each sorted by e-mail address, and when each joined."""
    by_role: dict[str, list[Membership]] = {"host": [], "expert": [], "participant": []}
    rows = db.session.scalars(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.room_id == room.id)
        .order_by(User.email)
    )
    joined = {}
    for membership in rows:
        by_role.setdefault(membership.role, []).append(membership)
        joined[membership.user_id] = membership.joined_at
    return by_role, joined


def _add_libraries() -> dict[str, int]:
    """The rooms' library resources that are missing, found by room and title, then the
    downloads of their files by members since each was added, if they have none yet."""
    now = datetime.now(UTC).replace(tzinfo=None)
    added = dict.fromkeys(("library resources", "resource files", "resource downloads"), 0)
    rooms = {room.name: room for room in db.session.scalars(select(Room))}
    modules = {
        module.title: module
        for module in db.session.scalars(select(Module).where(Module.is_published))
    }
    series = {s.title: s for s in db.session.scalars(select(WebinarSeries))}
    for room_name, items in _LIBRARIES.items():
        room = rooms.get(room_name)
        if room is None:
            continue
        people, joined = _room_people(room)
        hosts = [m.user for m in people["host"]]
        experts = [m.user for m in people["expert"] if m.user.role == "practitioner"]
        existing = {
            resource.title: resource
            for resource in db.session.scalars(select(Resource).where(Resource.room_id == room.id))
        }
        for item in items:
            resource = existing.get(item.title)
            if resource is None:
                author = experts[0] if item.added_by == "expert" and experts else hosts[0]
                resource = _add_resource(room, item, author, modules, series, now)
                if resource is None:
                    continue
                added["library resources"] += 1
                added["resource files"] += len(resource.versions)
            if resource.kind == "file":
                readers = [m.user_id for m in people["expert"] + people["participant"]]
                added["resource downloads"] += _add_downloads(
                    resource, item.category, readers, joined, now
                )
    db.session.flush()
    return added


def _add_resource(room, item, author, modules, series, now) -> Resource | None:
    """``item`` in ``room``'s library, with its file's versions; ``None`` when what it links
    to is not on the platform."""
    created = now - timedelta(days=item.days_ago, hours=-(sum(map(ord, item.title)) % 9))
    resource = Resource(
        room_id=room.id,
        title=item.title,
        description=item.description,
        language=item.language,
        category=item.category,
        tags=item.tags,
        kind=item.kind,
        created_by_id=author.id,
        created_at=created,
        updated_at=created,
    )
    if item.kind == "module":
        if item.target not in modules:
            return None
        resource.module_id = modules[item.target].id
    elif item.kind == "series":
        if item.target not in series:
            return None
        resource.series_id = series[item.target].id
    elif item.kind == "link":
        resource.url = item.target
    else:
        dates = [created]
        if item.revised_days_ago is not None:
            dates.append(now - timedelta(days=item.revised_days_ago, hours=2))
        for number, dated in enumerate(dates, start=1):
            suffix = f" (version {number})" if number > 1 else ""
            stored = save_upload(
                io.BytesIO(_document_pdf(item, number, dated)),
                f"{item.title}{suffix}.pdf",
                allowed={PDF},
                uploaded_by=author,
            )
            stored.created_at = dated
            resource.versions.insert(
                0,
                ResourceVersion(
                    number=number, stored_file=stored, uploaded_by_id=author.id, created_at=dated
                ),
            )
            resource.updated_at = dated
    db.session.add(resource)
    db.session.flush()
    return resource


def _add_downloads(
    resource: Resource,
    category: str,
    readers: list[int],
    joined: dict[int, datetime],
    now: datetime,
) -> int:
    """Downloads of ``resource``'s file by ``readers`` since it was added, unless it has some
    already: most in the first weeks, each of the version that was newest then, each by a
    member who had joined by then."""
    if not readers or db.session.scalar(
        select(ResourceDownload.id).where(ResourceDownload.resource_id == resource.id).limit(1)
    ):
        return 0
    versions = sorted(resource.versions, key=lambda version: version.number)
    since = versions[0].created_at
    span = (now - since).total_seconds()
    draw = random.Random(f"{resource.room_id}/{resource.title}")
    fewest, most = _DOWNLOADS.get(category, _DOWNLOADS["other"])
    downloads = []
    for _ in range(draw.randint(fewest, most)):
        at = since + timedelta(seconds=int(span * draw.random() ** 2))
        present = [user_id for user_id in readers if joined[user_id] <= at] or readers
        version = next(v for v in reversed(versions) if v.created_at <= at)
        downloads.append(
            ResourceDownload(
                resource_id=resource.id,
                version_id=version.id,
                user_id=draw.choice(present),
                at=at,
            )
        )
    db.session.add_all(sorted(downloads, key=lambda download: download.at))
    return len(downloads)


def _session_times(room_name: str, spec: _Session, now: datetime) -> tuple[datetime, datetime]:
    """When ``spec`` starts and ends: two hours at the room's hour, on a Tuesday."""
    hour = _SESSION_HOURS.get(room_name, 13)
    if spec.weeks > 0:  # the first Tuesday at least a week after loading, then weekly
        day = (now + timedelta(days=7)).replace(hour=hour, minute=0, second=0, microsecond=0)
        day += timedelta(days=(1 - day.weekday()) % 7 + 7 * (spec.weeks - 1))
    else:  # the Tuesday of that week
        day = (now + timedelta(weeks=spec.weeks)).replace(
            hour=hour, minute=0, second=0, microsecond=0
        )
        day -= timedelta(days=(day.weekday() - 1) % 7)
    return day, day + timedelta(hours=2)


def _add_sessions() -> dict[str, int]:
    """The rooms' live sessions that are missing, found by room and title, then who attended
    the past ones, as marked by the host, for those without attendance yet."""
    now = datetime.now(UTC).replace(tzinfo=None)
    added = dict.fromkeys(("live sessions", "attendance marks"), 0)
    rooms = {room.name: room for room in db.session.scalars(select(Room))}
    for room_name, specs in _SESSIONS.items():
        room = rooms.get(room_name)
        if room is None:
            continue
        people, joined = _room_people(room)
        host = people["host"][0].user
        existing = {
            session.title: session
            for session in db.session.scalars(
                select(LiveSession).where(LiveSession.room_id == room.id)
            )
        }
        for spec in specs:
            session = existing.get(spec.title)
            if session is None:
                session = _add_session(room, spec, host, now)
                if session is None:
                    continue
                added["live sessions"] += 1
            if session.ends_at < now:
                added["attendance marks"] += _add_attendance(session, people, joined, host)
    db.session.flush()
    return added


def _add_session(room: Room, spec: _Session, host: User, now: datetime) -> LiveSession | None:
    """``spec`` scheduled in ``room`` by ``host``; ``None`` when its webinar is missing."""
    webinar = None
    if spec.recording is not None:
        series_title, webinar_title = spec.recording
        webinar = db.session.scalar(
            select(Webinar)
            .join(Webinar.series)
            .where(WebinarSeries.title == series_title, Webinar.title == webinar_title)
        )
        if webinar is None or webinar.starts_at >= now:
            return None
        starts, ends = webinar.starts_at, webinar.starts_at + timedelta(hours=2)
        visible = not webinar.series.rooms or room in webinar.series.rooms
        if webinar.recording_id is None or not visible:
            webinar = None  # the session took place; its recording is not for these members
    else:
        starts, ends = _session_times(room.name, spec, now)
    if starts > now:
        scheduled = now - timedelta(days=spec.scheduled_days_ago, hours=3)
    else:
        scheduled = starts - timedelta(days=16, hours=5)
    session = LiveSession(
        room_id=room.id,
        title=spec.title,
        agenda=spec.agenda,
        starts_at=starts,
        ends_at=ends,
        conference_url=f"https://meet.example.org/{_CONFERENCE_SLUGS[room.name]}-{starts:%Y%m%d}",
        webinar_id=webinar.id if webinar is not None else None,
        created_by_id=host.id,
        created_at=max(scheduled, room.created_at),
    )
    db.session.add(session)
    db.session.flush()
    return session


def _add_attendance(
    session: LiveSession,
    people: dict[str, list[Membership]],
    joined: dict[int, datetime],
    host: User,
) -> int:
    """Who attended ``session``, marked by ``host`` after it, unless anyone is marked already:
    the hosts and most experts, and between half and four fifths of the participants who had
    joined by then."""
    if db.session.scalar(select(Attendance.id).where(Attendance.session_id == session.id).limit(1)):
        return 0
    draw = random.Random(f"{session.room_id}/{session.title}")
    share = draw.uniform(0.5, 0.8)
    present = [m.user_id for m in people["host"]]
    present += [m.user_id for m in people["expert"] if draw.random() < 0.8]
    present += [m.user_id for m in people["participant"] if draw.random() < share]
    rows = [
        Attendance(
            session_id=session.id,
            user_id=user_id,
            source="host",
            marked_by_id=host.id,
            at=session.ends_at + timedelta(minutes=draw.randint(5, 120)),
        )
        for user_id in present
        if joined[user_id] <= session.starts_at
    ]
    db.session.add_all(rows)
    return len(rows)


def _add_invitations() -> int:
    """The rooms' invitation links that are missing, found by room and note.

    Only the hash of a random token is kept, as for a link a host creates: nobody knows the
    token, so the demo links cannot be used, and no token is written in this file.
    """
    from irooms.members import token_hash  # the package's views import this module's models

    now = datetime.now(UTC).replace(tzinfo=None)
    rooms = {room.name: room for room in db.session.scalars(select(Room))}
    added = 0
    for room_name, specs in _INVITATIONS.items():
        room = rooms.get(room_name)
        if room is None:
            continue
        people, _joined = _room_people(room)
        notes = set(
            db.session.scalars(select(Invitation.note).where(Invitation.room_id == room.id))
        )
        for spec in specs:
            if spec.note in notes:
                continue
            created = now - timedelta(days=spec.created_days_ago, hours=1)
            db.session.add(
                Invitation(
                    room_id=room.id,
                    token_hash=token_hash(secrets.token_urlsafe(32)),
                    role=spec.role,
                    expires_at=created + timedelta(days=spec.days),
                    max_uses=spec.max_uses,
                    uses=spec.uses,
                    revoked_at=now - timedelta(days=spec.revoked_days_ago)
                    if spec.revoked_days_ago is not None
                    else None,
                    note=spec.note,
                    created_by_id=people["host"][-1].user_id,
                    created_at=created,
                )
            )
            added += 1
    db.session.flush()
    return added


def _add_last_visits(users: dict[str, User]) -> int:
    """When members last visited their rooms, for those who have no visit yet: most of them,
    some days or weeks ago, and practitioner@example.org as ``_DEMO_PRACTITIONER_VISITS`` says,
    so that "My iRooms" shows what is new since."""
    now = datetime.now(UTC).replace(tzinfo=None)
    demo_practitioner = users["practitioner@example.org"].id
    rooms = {room.id: room.name for room in db.session.scalars(select(Room))}
    changed = 0
    for membership in db.session.scalars(
        select(Membership).where(Membership.last_visit_at.is_(None)).order_by(Membership.id)
    ):
        name = rooms[membership.room_id]
        if membership.user_id == demo_practitioner:
            days = _DEMO_PRACTITIONER_VISITS.get(name)
            if days is None:
                continue
            visited = now - timedelta(days=days, hours=5)
        else:
            draw = random.Random(f"{name}/{membership.user_id}/visit")
            if draw.random() < 0.25:
                continue  # has not visited since joining
            visited = now - timedelta(days=draw.uniform(0.5, 60))
        membership.last_visit_at = max(visited, membership.joined_at)
        changed += 1
    db.session.flush()
    return changed


def load_demo_data() -> dict[str, int]:
    """Add what is missing of the demo data set and say how many records of each kind were added.

    The caller commits.
    """
    rng = random.Random(2026)
    users = _users_by_email()
    created = {"accounts": _add_accounts(users, rng)}
    db.session.flush()
    trainer = users["trainer@example.org"]
    created["modules"] = add_modules(trainer)
    created["webinar series and webinars"] = _add_series(users["trainer2@example.org"])
    created["iRooms and memberships"] = _add_rooms(users)
    db.session.flush()
    created["webinar series tied to iRooms"] = _restrict_series(_RESTRICTED_SERIES)
    created.update(_add_recordings(users))
    created["lessons and tests"] = add_lessons_and_tests(trainer, rng)
    created["SCORM lessons"] = add_scorm_lessons(trainer)
    created["enrolments"] = _add_learners(users)
    created.update(_add_libraries())
    created.update(_add_sessions())
    created["invitation links"] = _add_invitations()
    created["last visits"] = _add_last_visits(users)
    created["forum topics and posts"] = add_forum_topics(users["practitioner@example.org"])
    created["surveys"] = add_surveys(trainer)
    return created
