"""The demo data set behind ``make run``: accounts, modules, webinar series and iRooms.

Two webinar series have recordings, captions and slides for their past webinars, with a year of
views and downloads; the files are stored as uploads are, under ``STORAGE_DIR``.

Loading is idempotent: every record is looked up by its natural key (an e-mail address, a module
or series title, a room name, a membership's room and person) and only what is missing is added.
The wording follows the public reports about the platform this product is modelled on.
"""

import io
import random
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from courses import services as courses
from courses.models import Caption, Enrolment, Module, RecordingEvent, Webinar, WebinarSeries
from courses.webinars import DOWNLOAD, SLIDES, VIEW
from irooms.models import Membership, Room
from learnplatform.accounts.models import User
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

# (title, theme, language, minutes, published, enrolment mode, summary)
_MODULES = (
    (
        "Countering the financing of terrorism",
        "financing",
        "en",
        240,
        True,
        "open",
        "How terrorist groups raise, move and use funds, and how financial intelligence units, "
        "investigators and prosecutors detect, trace, freeze and confiscate them under Security "
        "Council resolution 1373 (2001) and the FATF Recommendations.",
    ),
    (
        "Lutte contre le financement du terrorisme",
        "financing",
        "fr",
        240,
        True,
        "open",
        "Comment les groupes terroristes collectent, transfèrent et utilisent des fonds, et "
        "comment les cellules de renseignement financier, les enquêteurs et les procureurs les "
        "détectent, les gèlent et les confisquent.",
    ),
    (
        "The international legal framework against chemical, biological, radiological and "
        "nuclear terrorism",
        "cbrn",
        "en",
        300,
        True,
        "open",
        "The universal instruments on CBRN terrorism, the offences they require States to "
        "establish, and the criminal justice response from investigation to adjudication.",
    ),
    (
        "Requesting electronic evidence across borders",
        "electronic_evidence",
        "en",
        180,
        True,
        "open",
        "Preserving and obtaining data held by service providers abroad: preservation requests, "
        "emergency disclosure, mutual legal assistance and the practical guide for competent "
        "national authorities.",
    ),
    (
        "Solicitud de pruebas electrónicas más allá de las fronteras",
        "electronic_evidence",
        "es",
        180,
        True,
        "open",
        "Conservación y obtención de datos en poder de proveedores de servicios extranjeros: "
        "solicitudes de conservación, divulgación de emergencia y asistencia judicial recíproca.",
    ),
    (
        "Foreign terrorist fighters: prosecution, rehabilitation and reintegration",
        "foreign_fighters",
        "en",
        210,
        True,
        "approval",
        "Criminal justice responses to foreign terrorist fighters and their families after "
        "Security Council resolutions 2178 (2014) and 2396 (2017): evidence from conflict zones, "
        "battlefield information, prosecution strategies and alternatives.",
    ),
    (
        "Supporting victims of terrorism in criminal proceedings",
        "victims",
        "en",
        120,
        True,
        "open",
        "The rights and needs of victims of terrorism before, during and after trial, and good "
        "practices for assistance and support in the criminal justice system.",
    ),
    (
        "Children recruited and exploited by terrorist and violent extremist groups",
        "children",
        "en",
        150,
        True,
        "open",
        "Treating children associated with terrorist groups primarily as victims: justice for "
        "children, alternatives to detention and reintegration.",
    ),
    (
        "Gender dimensions of criminal justice responses to terrorism",
        "gender",
        "en",
        150,
        True,
        "open",
        "Integrating gender into investigation, prosecution and adjudication of terrorism cases, "
        "and the roles of women as perpetrators, victims and justice professionals.",
    ),
    (
        "Управление насильственными экстремистами в местах лишения свободы",
        "prisons",
        "ru",
        180,
        True,
        "invitation",
        "Оценка рисков, предотвращение радикализации в местах лишения свободы и программы "
        "реабилитации и реинтеграции.",
    ),
    (
        "التعاون الدولي في المسائل الجنائية المتعلقة بالإرهاب",
        "cooperation",
        "ar",
        200,
        True,
        "open",
        "تسليم المطلوبين والمساعدة القانونية المتبادلة وتبادل المعلومات بين السلطات المركزية "
        "في قضايا الإرهاب.",
    ),
    (
        "Prevenção do extremismo violento através da educação",
        "prevention",
        "pt",
        90,
        True,
        "open",
        "O papel das escolas, das famílias e das comunidades na prevenção do extremismo violento "
        "que conduz ao terrorismo.",
    ),
    (
        "Special investigative techniques in terrorism cases",
        "criminal_justice",
        "en",
        240,
        False,
        "open",
        "Undercover operations, interception of communications and controlled delivery within "
        "the rule of law; draft under review by the Terrorism Prevention Branch.",
    ),
    (
        "Human rights and criminal justice responses to terrorism",
        "criminal_justice",
        "fr",
        200,
        False,
        "approval",
        "Brouillon : garanties d'un procès équitable, détention et usage de la force dans le "
        "cadre de la lutte contre le terrorisme.",
    ),
)

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

# (name, theme, language, region, description, host emails, expert emails, participant count)
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
        ("trainer2@example.org",),
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
        ("trainer@example.org",),
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
        (),
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
        (),
        9,
    ),
)

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


def _add_modules(author: User) -> int:
    existing = set(db.session.scalars(select(Module.title)))
    now = datetime.now(UTC).replace(tzinfo=None)
    added = 0
    for index, (title, theme, language, minutes, published, mode, summary) in enumerate(_MODULES):
        if title in existing:
            continue
        db.session.add(
            Module(
                title=title,
                summary=summary,
                theme=theme,
                language=language,
                estimated_minutes=minutes,
                is_published=published,
                enrolment_mode=mode,
                created_by=author,
                published_at=now - timedelta(days=30 * (len(_MODULES) - index))
                if published
                else None,
            )
        )
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
            )
            db.session.add(room)
            db.session.flush()
            added += 1
        chosen = random.Random(name).sample(practitioners, count)
        wanted = [(users[email], "host") for email in hosts]
        wanted += [(users[email], "expert") for email in experts]
        wanted += [(user, "participant") for user in chosen]
        wanted.append((users["practitioner@example.org"], "participant"))
        for user, role in wanted:
            if (room.id, user.id) in members:
                continue
            members.add((room.id, user.id))
            db.session.add(Membership(room_id=room.id, user_id=user.id, role=role))
            added += 1
    return added


# Lesson outlines per module language: (title, paragraphs). The module's summary opens the first.
_LESSONS = {
    "en": (
        (
            "Introduction and learning objectives",
            (
                "This module is part of the technical assistance delivered to criminal justice "
                "officials: law- and policymakers, police and other law enforcement agents, "
                "prosecutors and defence lawyers, judges and prison officials.",
            ),
        ),
        (
            "The international legal framework",
            (
                "The universal legal instruments against terrorism require States to criminalise "
                "the offences they define and to cooperate in preventing and prosecuting them.",
                "Security Council resolutions 1373 (2001), 2178 (2014), 2396 (2017) and 2462 (2019) "
                "add obligations on terrorist financing, foreign terrorist fighters and information "
                "sharing.",
            ),
        ),
        (
            "From investigation to adjudication",
            (
                "Effective responses rest on evidence gathered lawfully, international cooperation "
                "in criminal matters, and fair trial guarantees throughout the proceedings.",
            ),
        ),
        (
            "Case study and good practices",
            (
                "Work through the case study with your national legislation at hand. Note the "
                "questions you would put to the central authority of the requested State.",
            ),
        ),
    ),
    "fr": (
        (
            "Introduction et objectifs",
            ("Ce module s'adresse aux praticiens de la justice pénale.",),
        ),
        (
            "Le cadre juridique international",
            (
                "Les instruments juridiques universels contre le terrorisme imposent aux États "
                "d'ériger en infractions les actes qu'ils définissent.",
            ),
        ),
        (
            "Étude de cas",
            ("Analysez le cas pratique à la lumière de votre législation nationale.",),
        ),
    ),
    "es": (
        (
            "Introducción y objetivos",
            ("Este módulo está dirigido a profesionales de la justicia penal.",),
        ),
        (
            "El marco jurídico internacional",
            (
                "Los instrumentos jurídicos universales contra el terrorismo obligan a los Estados a "
                "tipificar los delitos que definen.",
            ),
        ),
        ("Estudio de caso", ("Analice el caso práctico a la luz de su legislación nacional.",)),
    ),
    "ru": (
        (
            "Введение и цели",
            ("Модуль предназначен для специалистов системы уголовного правосудия.",),
        ),
        (
            "Международно-правовая база",
            (
                "Универсальные правовые документы против терроризма обязывают государства "
                "криминализировать определённые в них деяния.",
            ),
        ),
    ),
    "ar": (
        ("مقدمة وأهداف", ("هذه الوحدة موجهة إلى العاملين في مجال العدالة الجنائية.",)),
        (
            "الإطار القانوني الدولي",
            ("تلزم الصكوك القانونية العالمية لمكافحة الإرهاب الدول بتجريم الأفعال التي تحددها.",),
        ),
    ),
    "pt": (
        ("Introdução e objetivos", ("Este módulo destina-se a profissionais da justiça penal.",)),
        (
            "O quadro jurídico internacional",
            (
                "Os instrumentos jurídicos universais contra o terrorismo obrigam os Estados a "
                "criminalizar os atos que definem.",
            ),
        ),
    ),
}

# A post-test for English modules: (kind, text, feedback, [(option, correct)]).
_POST_TEST = (
    (
        "single",
        "Which Security Council resolution, adopted in 2001, requires all States to criminalise "
        "the financing of terrorism?",
        "Resolution 1373 (2001), adopted under Chapter VII of the Charter.",
        (
            ("Resolution 1373 (2001)", True),
            ("Resolution 2396 (2017)", False),
            ("Resolution 2482 (2019)", False),
        ),
    ),
    (
        "multiple",
        "Which of these practitioners does the criminal justice response to terrorism involve?",
        "All of them: the response involves every part of the criminal justice system.",
        (("Prosecutors", True), ("Judges", True), ("Prison officials", True)),
    ),
    (
        "true_false",
        "Mutual legal assistance is never needed when evidence is held by a service provider "
        "abroad.",
        "False: data held abroad is usually obtained through mutual legal assistance or "
        "direct cooperation with the provider where the law allows it.",
        (("True", False), ("False", True)),
    ),
)


def _paragraphs(texts) -> str:
    return "".join(f"<p>{text}</p>" for text in texts)


def _add_lessons_and_tests(rng: random.Random) -> int:
    """Give every module that has no lesson yet its lessons, and English modules their tests."""
    added = 0
    for module in db.session.scalars(select(Module).where(Module.lesson_count == 0)):
        outline = _LESSONS[module.language if module.language in _LESSONS else "en"]
        for number, (title, texts) in enumerate(outline):
            opening = f"<p><strong>{module.summary}</strong></p>" if number == 0 else ""
            courses.add_lesson(module, title=title, body_html=opening + _paragraphs(texts))
            added += 1
        if module.language == "en":
            post_test = courses.quiz_of(module, "post_test", create=True)
            post_test.title = "Post-test"
            post_test.pass_mark = 60
            post_test.shuffle = rng.random() < 0.5
            for kind, text, feedback, options in _POST_TEST:
                courses.save_question(
                    post_test,
                    None,
                    kind=kind,
                    text=text,
                    points=1,
                    feedback=feedback,
                    options=list(options),
                )
            pre_test = courses.quiz_of(module, "pre_test", create=True)
            pre_test.title = "Pre-test: what do you know already?"
            kind, text, feedback, options = _POST_TEST[0]
            courses.save_question(
                pre_test,
                None,
                kind=kind,
                text=text,
                points=1,
                feedback=feedback,
                options=list(options),
            )
            added += 2
    db.session.flush()
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
            courses.submit_attempt(attempt, right)
    db.session.flush()
    return added


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
    """A one-page PDF, A4 landscape, with the webinar's title: its demo slides.

    Written by hand: a catalogue, one page, two standard fonts and the page's content stream,
    with the cross-reference table giving where each object starts.
    """
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
    content = b"\n".join(lines) + b"\n"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 842 595] "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
    ]
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


def load_demo_data() -> dict[str, int]:
    """Add what is missing of the demo data set and say how many records of each kind were added.

    The caller commits.
    """
    rng = random.Random(2026)
    users = _users_by_email()
    created = {"accounts": _add_accounts(users, rng)}
    db.session.flush()
    trainer = users["trainer@example.org"]
    created["modules"] = _add_modules(trainer)
    created["webinar series and webinars"] = _add_series(users["trainer2@example.org"])
    created["iRooms and memberships"] = _add_rooms(users)
    db.session.flush()
    created["webinar series tied to iRooms"] = _restrict_series(_RESTRICTED_SERIES)
    created.update(_add_recordings(users))
    created["lessons and tests"] = _add_lessons_and_tests(rng)
    created["enrolments"] = _add_learners(users)
    return created
