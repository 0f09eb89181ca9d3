# ruff: noqa: RUF001 (text in seven languages: Cyrillic one-letter words, full-width punctuation)
"""Large made-up data for the statistics benchmarks: ``flask demo-data --users N --enrolments M``.

Practitioners from the countries the platform serves (most from the Sahel, West, East and North
Africa, the Middle East, Central, South and South-East Asia and Latin America, fewer from
Europe), with names, agencies and institutions that fit their country, registered over the past
three years, more of them lately; their enrolments in the published modules, in their own language
or English mostly, spread over the same years with more in term months than in July, August,
December and January, and on weekdays; about three in five completed days or weeks after
enrolling, the others part-way.

Nobody here is a real person: names are drawn one part at a time from common given and family
names, institutions from patterns such as "Office of the Public Prosecutor, <city>". Every
account is active and confirmed, ``u<number>@bulk.example.org``, with the password
``PASSWORD``. Running it again adds more people, numbered after the highest bulk address.

Rows are generated lazily, a batch at a time, and written inside the caller's transaction (the
caller commits, so an interrupted run leaves nothing behind): on SQLite with SQLAlchemy Core
INSERTs for many rows, on PostgreSQL with ``COPY``. The same seed on the same database gives the
same data on the same day (times count back from midnight UTC).
"""

import bisect
import contextlib
import heapq
import itertools
import math
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from sqlalchemy import func, insert, select, text

from courses.models import Enrolment, Lesson, Module, Option, Question, Quiz
from learnplatform.accounts.models import User
from learnplatform.extensions import db
from learnplatform.passwords import hash_password
from learnplatform.richtext import clean_lesson_html

EMAIL_DOMAIN = "bulk.example.org"
#: every generated account logs in with this password
PASSWORD = "bulk practitioner passphrase, not for real use"  # noqa: S105
#: how far back registrations and enrolments go
DAYS = 3 * 365
#: fewer published modules than this and the command adds some, so that people have a choice
MIN_MODULES = 12

_EMAIL = re.compile(r"u(\d+)@" + re.escape(EMAIL_DOMAIN))


class BulkDataError(ValueError):
    """What was asked for cannot be generated; nothing was changed."""


# --- Where people come from ----------------------------------------------------------------------

# (country, share of people in per mille, names, language of institution names, interface
# language, cities). The shares add up to 1000: the Sahel 130, the rest of West and Central
# Africa 140, East Africa 110, North Africa 80, the Middle East 90, Central Asia 80, South Asia
# 100, South-East and East Asia 90, Latin America 120, Europe 60.
_COUNTRIES = (
    ("ML", 35, "sahel", "fr", "fr", ("Bamako", "Mopti", "Gao", "Ségou", "Tombouctou")),
    ("NE", 30, "sahel", "fr", "fr", ("Niamey", "Zinder", "Maradi", "Agadez", "Tahoua")),
    ("BF", 30, "sahel", "fr", "fr", ("Ouagadougou", "Bobo-Dioulasso", "Koudougou", "Dori")),
    ("TD", 20, "sahel", "fr", "fr", ("N'Djamena", "Moundou", "Abéché", "Bol")),
    ("MR", 15, "mauritania", "fr", "ar", ("Nouakchott", "Nouadhibou", "Néma", "Kiffa")),
    ("NG", 40, "west_en", "en", "en", ("Abuja", "Lagos", "Kano", "Maiduguri", "Kaduna")),
    ("SN", 20, "coastal_fr", "fr", "fr", ("Dakar", "Thiès", "Saint-Louis", "Ziguinchor")),
    ("CI", 15, "coastal_fr", "fr", "fr", ("Abidjan", "Bouaké", "Yamoussoukro", "Korhogo")),
    ("GH", 12, "west_en", "en", "en", ("Accra", "Kumasi", "Tamale", "Takoradi")),
    ("BJ", 10, "coastal_fr", "fr", "fr", ("Cotonou", "Porto-Novo", "Parakou")),
    ("TG", 8, "coastal_fr", "fr", "fr", ("Lomé", "Kara", "Dapaong")),
    ("GN", 8, "coastal_fr", "fr", "fr", ("Conakry", "Kankan", "Nzérékoré")),
    ("CM", 10, "coastal_fr", "fr", "fr", ("Yaoundé", "Douala", "Maroua", "Garoua")),
    ("GM", 4, "west_en", "en", "en", ("Banjul", "Serekunda")),
    ("SL", 4, "west_en", "en", "en", ("Freetown", "Bo", "Kenema")),
    ("LR", 3, "west_en", "en", "en", ("Monrovia", "Gbarnga")),
    ("CV", 3, "lusophone_africa", "pt", "pt", ("Praia", "Mindelo")),
    ("GW", 3, "lusophone_africa", "pt", "pt", ("Bissau", "Bafatá")),
    ("KE", 30, "east_en", "en", "en", ("Nairobi", "Mombasa", "Garissa", "Kisumu", "Lamu")),
    ("SO", 20, "somali", "en", "en", ("Mogadishu", "Kismayo", "Baidoa", "Garowe")),
    ("UG", 15, "east_en", "en", "en", ("Kampala", "Gulu", "Mbarara", "Jinja")),
    ("ET", 15, "ethiopia", "en", "en", ("Addis Ababa", "Dire Dawa", "Mekelle", "Bahir Dar")),
    ("TZ", 12, "east_en", "en", "en", ("Dodoma", "Dar es Salaam", "Arusha", "Mtwara")),
    ("DJ", 4, "somali", "fr", "fr", ("Djibouti", "Ali Sabieh")),
    ("RW", 4, "east_en", "en", "en", ("Kigali", "Huye")),
    ("MZ", 10, "lusophone_africa", "pt", "pt", ("Maputo", "Pemba", "Nampula", "Beira")),
    ("EG", 20, "arabic", "en", "ar", ("Cairo", "Alexandria", "Ismailia", "Assiut")),
    ("MA", 20, "maghreb", "fr", "ar", ("Rabat", "Casablanca", "Fès", "Marrakech", "Tanger")),
    ("TN", 16, "maghreb", "fr", "ar", ("Tunis", "Sfax", "Sousse", "Gafsa")),
    ("DZ", 10, "maghreb", "fr", "ar", ("Alger", "Oran", "Constantine", "Ouargla")),
    ("LY", 8, "arabic", "en", "ar", ("Tripoli", "Benghazi", "Misrata", "Sabha")),
    ("SD", 6, "arabic", "en", "ar", ("Khartoum", "Port Sudan", "Kassala")),
    ("IQ", 25, "arabic", "en", "ar", ("Baghdad", "Erbil", "Basra", "Mosul", "Najaf")),
    ("JO", 15, "arabic", "en", "ar", ("Amman", "Irbid", "Zarqa", "Aqaba")),
    ("LB", 12, "arabic", "en", "ar", ("Beirut", "Tripoli", "Saida", "Zahle")),
    ("YE", 6, "arabic", "en", "ar", ("Aden", "Mukalla", "Taiz")),
    ("SA", 6, "arabic", "en", "ar", ("Riyadh", "Jeddah", "Dammam")),
    ("AE", 5, "arabic", "en", "ar", ("Abu Dhabi", "Dubai")),
    ("QA", 4, "arabic", "en", "ar", ("Doha",)),
    ("KW", 3, "arabic", "en", "ar", ("Kuwait City",)),
    ("OM", 2, "arabic", "en", "ar", ("Muscat", "Salalah")),
    ("TR", 12, "turkish", "en", "en", ("Ankara", "Istanbul", "Izmir", "Gaziantep")),
    ("KZ", 20, "central_asia", "en", "ru", ("Astana", "Almaty", "Shymkent", "Aktobe")),
    ("UZ", 20, "central_asia", "en", "ru", ("Tashkent", "Samarkand", "Namangan", "Nukus")),
    ("KG", 16, "central_asia", "en", "ru", ("Bishkek", "Osh", "Jalal-Abad")),
    ("TJ", 14, "central_asia", "en", "ru", ("Dushanbe", "Khujand", "Kulob")),
    ("TM", 10, "central_asia", "en", "ru", ("Ashgabat", "Turkmenabat", "Mary")),
    ("PK", 30, "pakistan", "en", "en", ("Islamabad", "Lahore", "Karachi", "Peshawar", "Quetta")),
    ("BD", 25, "bangladesh", "en", "en", ("Dhaka", "Chattogram", "Sylhet", "Rajshahi")),
    ("LK", 13, "sri_lanka", "en", "en", ("Colombo", "Kandy", "Jaffna", "Galle")),
    ("MV", 8, "maldives", "en", "en", ("Malé", "Addu City")),
    ("NP", 8, "india_nepal", "en", "en", ("Kathmandu", "Pokhara", "Biratnagar")),
    ("IN", 8, "india_nepal", "en", "en", ("New Delhi", "Mumbai", "Hyderabad", "Kolkata")),
    ("AF", 8, "pakistan", "en", "en", ("Kabul", "Herat", "Mazar-i-Sharif")),
    ("ID", 28, "malay", "en", "en", ("Jakarta", "Surabaya", "Medan", "Makassar", "Poso")),
    ("PH", 22, "philippines", "en", "en", ("Manila", "Davao", "Cotabato", "Zamboanga")),
    ("MY", 16, "malay", "en", "en", ("Kuala Lumpur", "Putrajaya", "Johor Bahru", "Sabah")),
    ("TH", 10, "thai", "en", "en", ("Bangkok", "Chiang Mai", "Songkhla", "Pattani")),
    ("VN", 6, "vietnamese", "en", "en", ("Hanoi", "Ho Chi Minh City", "Da Nang")),
    ("CN", 8, "chinese", "en", "zh", ("Beijing", "Shanghai", "Guangzhou", "Urumqi")),
    ("CO", 20, "spanish", "es", "es", ("Bogotá", "Medellín", "Cali", "Barranquilla", "Cúcuta")),
    ("PE", 14, "spanish", "es", "es", ("Lima", "Arequipa", "Cusco", "Ayacucho")),
    ("PY", 10, "spanish", "es", "es", ("Asunción", "Ciudad del Este", "Encarnación")),
    ("MX", 15, "spanish", "es", "es", ("Ciudad de México", "Guadalajara", "Monterrey")),
    ("GT", 7, "spanish", "es", "es", ("Ciudad de Guatemala", "Quetzaltenango")),
    ("EC", 7, "spanish", "es", "es", ("Quito", "Guayaquil", "Cuenca")),
    ("AR", 8, "spanish", "es", "es", ("Buenos Aires", "Córdoba", "Rosario", "Mendoza")),
    ("BO", 5, "spanish", "es", "es", ("La Paz", "Santa Cruz", "Cochabamba")),
    ("CL", 5, "spanish", "es", "es", ("Santiago", "Valparaíso", "Antofagasta")),
    ("HN", 4, "spanish", "es", "es", ("Tegucigalpa", "San Pedro Sula")),
    ("SV", 4, "spanish", "es", "es", ("San Salvador", "Santa Ana")),
    ("PA", 3, "spanish", "es", "es", ("Ciudad de Panamá", "Colón")),
    ("DO", 3, "spanish", "es", "es", ("Santo Domingo", "Santiago de los Caballeros")),
    ("CR", 2, "spanish", "es", "es", ("San José", "Limón")),
    ("BR", 13, "brazil", "pt", "pt", ("Brasília", "São Paulo", "Rio de Janeiro", "Manaus")),
    ("BA", 10, "balkans", "en", "en", ("Sarajevo", "Banja Luka", "Mostar", "Tuzla")),
    ("MK", 8, "balkans", "en", "en", ("Skopje", "Bitola", "Tetovo")),
    ("AL", 8, "balkans", "en", "en", ("Tirana", "Durrës", "Shkodër")),
    ("RS", 6, "balkans", "en", "en", ("Belgrade", "Novi Sad", "Niš")),
    ("ME", 3, "balkans", "en", "en", ("Podgorica", "Bar")),
    ("UA", 6, "eastern_europe", "en", "en", ("Kyiv", "Lviv", "Odesa", "Kharkiv")),
    ("MD", 4, "eastern_europe", "en", "en", ("Chișinău", "Bălți")),
    ("FR", 4, "french", "fr", "fr", ("Paris", "Lyon", "Marseille")),
    ("BE", 4, "french", "fr", "fr", ("Bruxelles", "Liège", "Namur")),
    ("ES", 3, "spanish", "es", "es", ("Madrid", "Barcelona", "Sevilla")),
    ("IT", 2, "italian", "en", "en", ("Rome", "Milan", "Naples")),
    ("DE", 1, "german", "en", "en", ("Berlin", "Karlsruhe", "Munich")),
    ("AT", 1, "german", "en", "en", ("Vienna", "Graz", "Linz")),
)

# Given names of women, of men, and family names. Each part is common; whole names are drawn at
# random, so they belong to nobody in particular.
_NAMES = {
    "sahel": (
        ("Aminata", "Fatoumata", "Mariam", "Aïssata", "Kadiatou", "Hawa", "Ramatou", "Salimata"),
        ("Moussa", "Ousmane", "Boubacar", "Issa", "Yacouba", "Abdoulaye", "Souleymane", "Adama"),
        ("Traoré", "Diallo", "Keïta", "Coulibaly", "Maïga", "Touré", "Ouédraogo", "Sawadogo"),
    ),
    "mauritania": (
        ("Mariem", "Aïchetou", "Khadijetou", "Fatimetou", "Zeinabou", "Salka"),
        ("Mohamed", "Sidi", "Ahmed", "Cheikh", "Moulaye", "Brahim", "El Hadj"),
        ("Ould Ahmed", "Ould Sidi", "Ould Cheikh", "Ould Mohamed", "Ould Brahim", "Ould Mahmoud"),
    ),
    "coastal_fr": (
        ("Awa", "Ndèye", "Adjoua", "Akissi", "Fatou", "Aïcha", "Mireille", "Christelle", "Estelle"),
        ("Mamadou", "Cheikh", "Koffi", "Kouamé", "Serge", "Yao", "Modou", "Alassane", "Pape"),
        ("Ndiaye", "Diop", "Fall", "Sarr", "Kouassi", "Bamba", "Agbodjan", "Camara", "Mbarga"),
    ),
    "west_en": (
        ("Ngozi", "Chiamaka", "Aisha", "Funmilayo", "Abena", "Fatima", "Blessing", "Hauwa"),
        ("Chukwuemeka", "Oluwaseun", "Ibrahim", "Kwame", "Musa", "Emmanuel", "Abdullahi", "Yusuf"),
        ("Okafor", "Adeyemi", "Bello", "Mensah", "Boateng", "Abubakar", "Ogunleye", "Kamara"),
    ),
    "east_en": (
        ("Wanjiru", "Akinyi", "Achieng", "Nakato", "Neema", "Amina", "Mercy", "Zawadi", "Faith"),
        ("Otieno", "Kiprotich", "Baraka", "Juma", "Joseph", "Moses", "Daudi", "Peter", "Hamisi"),
        ("Mwangi", "Odhiambo", "Kamau", "Njoroge", "Mugisha", "Okello", "Nsubuga", "Wekesa"),
    ),
    "ethiopia": (
        ("Selamawit", "Hirut", "Meron", "Tigist", "Bethlehem", "Mahlet"),
        ("Abebe", "Dawit", "Tesfaye", "Yonas", "Getachew", "Solomon"),
        ("Bekele", "Haile", "Tadesse", "Girma", "Alemu", "Mengesha"),
    ),
    "somali": (
        ("Hodan", "Fadumo", "Amina", "Sahra", "Ifrah", "Nimco", "Hibaaq"),
        ("Abdirahman", "Mohamed", "Abdullahi", "Ahmed", "Hassan", "Farah", "Abdikarim"),
        ("Warsame", "Abdi", "Omar", "Hersi", "Aden", "Jama", "Yusuf", "Dirie"),
    ),
    "lusophone_africa": (
        ("Ana", "Luísa", "Teresa", "Isabel", "Joana", "Celeste", "Albertina", "Graça"),
        ("João", "Armando", "Nelson", "António", "Manuel", "Domingos", "Alberto", "Carlos"),
        ("Tavares", "Gomes", "Lopes", "Fernandes", "Cossa", "Sitoe", "Nhantumbo", "Semedo"),
    ),
    "arabic": (
        ("Leila", "Nour", "Salma", "Rania", "Hana", "Dina", "Lina", "Reem", "Maha", "Huda"),
        ("Omar", "Ahmed", "Khaled", "Tarek", "Mahmoud", "Ali", "Hussein", "Ziad", "Sami"),
        ("Haddad", "Khalil", "Mansour", "Abdallah", "Al-Khatib", "Nasser", "Hamdan", "Darwish"),
    ),
    "maghreb": (
        ("Meriem", "Imane", "Khadija", "Nadia", "Soukaina", "Amel", "Asma", "Ines"),
        ("Youssef", "Mehdi", "Hicham", "Karim", "Sofiane", "Anis", "Walid", "Mourad"),
        ("El Amrani", "Benali", "Trabelsi", "Bouzid", "El Idrissi", "Cherif", "Belkacem", "Jebali"),
    ),
    "turkish": (
        ("Ayşe", "Elif", "Zeynep", "Fatma", "Emine", "Merve"),
        ("Mehmet", "Mustafa", "Ahmet", "Emre", "Burak", "Murat"),
        ("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk", "Arslan"),
    ),
    "central_asia": (
        ("Aigerim", "Gulnara", "Madina", "Dinara", "Zarina", "Nilufar", "Aizhan", "Saltanat"),
        ("Timur", "Rustam", "Bakyt", "Sherzod", "Nurlan", "Daniyar", "Farrukh", "Azamat"),
        ("Abdullaev", "Rakhimov", "Tokhtarov", "Nurlanov", "Sadykov", "Usmonov", "Nazarov"),
    ),
    "pakistan": (
        ("Ayesha", "Fatima", "Saima", "Nadia", "Zainab", "Rabia", "Sana", "Mahnoor"),
        ("Bilal", "Usman", "Asad", "Faisal", "Hamza", "Tariq", "Ahmad", "Zubair"),
        ("Khan", "Qureshi", "Malik", "Hussain", "Shah", "Siddiqui", "Ahmadzai", "Rahimi"),
    ),
    "bangladesh": (
        ("Nusrat", "Farzana", "Sharmin", "Tahmina", "Rumana", "Shirin"),
        ("Rafiq", "Shahidul", "Kamrul", "Mizanur", "Arif", "Tanvir"),
        ("Rahman", "Hossain", "Islam", "Chowdhury", "Akter", "Uddin"),
    ),
    "india_nepal": (
        ("Priya", "Anjali", "Sunita", "Kavita", "Sita", "Deepa"),
        ("Arjun", "Rajesh", "Vikram", "Suresh", "Ramesh", "Bikash"),
        ("Sharma", "Singh", "Patel", "Nair", "Gurung", "Shrestha", "Thapa"),
    ),
    "sri_lanka": (
        ("Nimali", "Dilini", "Shiromi", "Chamari", "Fathima"),
        ("Nimal", "Chaminda", "Ruwan", "Kasun", "Mohamed"),
        ("Perera", "Fernando", "Jayasinghe", "Wickramasinghe", "Silva", "Bandara"),
    ),
    "maldives": (
        ("Aishath", "Mariyam", "Fathimath", "Hawwa", "Shifna"),
        ("Ahmed", "Ibrahim", "Mohamed", "Hassan", "Ali"),
        ("Rasheed", "Naseem", "Manik", "Shareef", "Waheed"),
    ),
    "malay": (
        ("Siti", "Dewi", "Nurul", "Putri", "Ratna", "Aisyah", "Fitri"),
        ("Agus", "Budi", "Ahmad", "Rizal", "Hendra", "Arif", "Hafiz"),
        ("Nasution", "Santoso", "Wijaya", "Hidayat", "Siregar", "Ismail", "Hamzah"),
    ),
    "philippines": (
        ("Maria Cristina", "Jocelyn", "Rowena", "Liza", "Mary Grace", "Jasmin"),
        ("Jose", "Mark Anthony", "Ramon", "Rodel", "Noel", "Abdul"),
        ("Santos", "Reyes", "Cruz", "Bautista", "Dela Cruz", "Mendoza", "Villanueva"),
    ),
    "thai": (
        ("Suda", "Pimchanok", "Kanya", "Siriporn", "Nattaya"),
        ("Somchai", "Niran", "Anan", "Prasert", "Wichai"),
        ("Srisuk", "Chaiyaporn", "Wongsawat", "Saetang", "Boonmee"),
    ),
    "vietnamese": (
        ("Thị Lan", "Thị Hương", "Thị Mai", "Thu Trang", "Ngọc Anh"),
        ("Văn Minh", "Văn Hùng", "Đức Anh", "Quang Huy", "Văn Nam"),
        ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ"),
    ),
    "chinese": (
        ("Fang", "Jing", "Min", "Yan", "Xiuying", "Lijuan"),
        ("Wei", "Lei", "Jun", "Hao", "Qiang", "Jianguo"),
        ("Zhang", "Wang", "Li", "Liu", "Chen", "Yang", "Zhao", "Huang"),
    ),
    "spanish": (
        ("María José", "Valentina", "Camila", "Daniela", "Lucía", "Gabriela", "Paola", "Verónica"),
        ("Carlos", "Jorge", "Andrés", "Diego", "Luis Fernando", "Juan Pablo", "Ricardo", "Héctor"),
        (
            "García",
            "Rodríguez",
            "Martínez",
            "López",
            "González",
            "Hernández",
            "Pérez",
            "Ramírez",
            "Torres",
            "Flores",
            "Quispe",
            "Benítez",
            "Castillo",
            "Morales",
            "Vargas",
            "Rojas",
        ),
    ),
    "brazil": (
        ("Juliana", "Fernanda", "Mariana", "Camila", "Patrícia", "Aline", "Renata"),
        ("Lucas", "Rafael", "Thiago", "Rodrigo", "Marcelo", "Gustavo", "Felipe"),
        ("Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Ferreira", "Almeida"),
    ),
    "balkans": (
        ("Amra", "Jelena", "Elira", "Marija", "Selma", "Besa", "Ivana"),
        ("Edin", "Nikola", "Arben", "Marko", "Dritan", "Stefan", "Emir"),
        ("Hodžić", "Petrović", "Hoxha", "Kovačević", "Jovanović", "Krasniqi", "Stojanovski"),
    ),
    "eastern_europe": (
        ("Olena", "Iryna", "Natalia", "Oksana", "Tetiana", "Elena"),
        ("Andriy", "Oleksandr", "Serhiy", "Dmytro", "Ion", "Vasile"),
        ("Kovalenko", "Bondarenko", "Tkachenko", "Melnyk", "Kravchuk", "Rusu", "Ciobanu"),
    ),
    "french": (
        ("Claire", "Sophie", "Camille", "Isabelle", "Nathalie", "Élodie"),
        ("Julien", "Thomas", "Nicolas", "Laurent", "Olivier", "Mathieu"),
        ("Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Lambert", "Peeters"),
    ),
    "italian": (
        ("Giulia", "Francesca", "Chiara", "Elena"),
        ("Marco", "Luca", "Alessandro", "Paolo"),
        ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano"),
    ),
    "german": (
        ("Anna", "Katharina", "Julia", "Sabine"),
        ("Lukas", "Stefan", "Michael", "Andreas"),
        ("Müller", "Schmidt", "Huber", "Gruber", "Wagner", "Bauer"),
    ),
}
_FAMILY_NAME_FIRST = {"chinese", "vietnamese"}

# Institutions, by the language they are named in and agency type; {city} is a city of the
# person's country.
_ORGANISATIONS = {
    "en": {
        "police": (
            "National Police, Counter-Terrorism Unit",
            "Criminal Investigation Department, {city}",
            "Anti-Terrorism Police Unit, {city}",
            "National Police, {city} Regional Command",
            "Counter Terrorism Department, {city}",
        ),
        "prosecution": (
            "Office of the Public Prosecutor, {city}",
            "Office of the Director of Public Prosecutions",
            "Prosecutor General's Office, Counter-Terrorism Division",
            "Office of the Attorney General, {city}",
        ),
        "judiciary": (
            "High Court, {city}",
            "Court of Appeal, {city}",
            "Supreme Court",
            "Specialised Criminal Court, {city}",
        ),
        "defence": (
            "{city} Bar Association",
            "Legal Aid Board, {city}",
            "National Bar Association",
        ),
        "prisons": (
            "Prison Service, {city} Central Prison",
            "Directorate of Prisons and Probation",
            "{city} High Security Prison",
        ),
        "financial_intelligence": (
            "Financial Intelligence Unit",
            "Financial Intelligence Unit, Analysis Department",
            "Central Bank, Anti-Money Laundering Supervision",
        ),
        "customs_borders": (
            "Customs Service, {city} International Airport",
            "Border Police, {city}",
            "Immigration and Border Management, {city}",
        ),
        "ministry": (
            "Ministry of Justice, International Cooperation Department",
            "Ministry of Interior",
            "Ministry of Foreign Affairs, Legal Department",
            "National Counter-Terrorism Centre",
        ),
        "civil_society": (
            "Association of Victims of Terrorism, {city}",
            "Centre for Human Rights and the Rule of Law, {city}",
            "Women's Legal Aid Network",
        ),
        "academia": (
            "University of {city}, Faculty of Law",
            "National Judicial Training Institute",
            "Police Academy, {city}",
        ),
        "international_organisation": (
            "Regional Programme Office, {city}",
            "Regional Counter-Terrorism Centre, {city}",
            "Country Office, {city}",
        ),
        "other": ("National Human Rights Commission", "Office of the Ombudsman"),
    },
    "fr": {
        "police": (
            "Police nationale, Brigade centrale de lutte contre le terrorisme",
            "Direction de la police judiciaire, {city}",
            "Gendarmerie nationale, légion de {city}",
            "Commissariat central de {city}",
        ),
        "prosecution": (
            "Parquet du tribunal de grande instance de {city}",
            "Pôle judiciaire spécialisé antiterroriste",
            "Parquet général près la cour d'appel de {city}",
        ),
        "judiciary": (
            "Tribunal de grande instance de {city}",
            "Cour d'appel de {city}",
            "Cour suprême",
            "Cabinet d'instruction, tribunal de {city}",
        ),
        "defence": ("Ordre des avocats de {city}", "Barreau de {city}"),
        "prisons": (
            "Maison d'arrêt et de correction de {city}",
            "Direction de l'administration pénitentiaire",
        ),
        "financial_intelligence": (
            "Cellule nationale de traitement des informations financières",
            "Cellule de renseignement financier, département des analyses",
        ),
        "customs_borders": (
            "Direction générale des douanes, {city}",
            "Police de l'air et des frontières, {city}",
        ),
        "ministry": (
            "Ministère de la Justice, Direction des affaires pénales",
            "Ministère de l'Intérieur",
            "Ministère des Affaires étrangères, Direction juridique",
        ),
        "civil_society": (
            "Association des victimes du terrorisme de {city}",
            "Ligue des droits de l'homme, section de {city}",
        ),
        "academia": (
            "Université de {city}, Faculté de droit",
            "École nationale de la magistrature",
            "École nationale de police, {city}",
        ),
        "international_organisation": ("Bureau régional, {city}", "Bureau de programme, {city}"),
        "other": ("Commission nationale des droits de l'homme", "Médiateur de la République"),
    },
    "es": {
        "police": (
            "Policía Nacional, Dirección contra el Terrorismo",
            "Policía Nacional, {city}",
            "Dirección de Investigación Criminal, {city}",
        ),
        "prosecution": (
            "Fiscalía Especializada contra el Terrorismo",
            "Fiscalía Regional de {city}",
            "Ministerio Público, {city}",
            "Fiscalía General",
        ),
        "judiciary": (
            "Corte Suprema de Justicia",
            "Juzgado Penal Especializado de {city}",
            "Tribunal Superior de {city}",
        ),
        "defence": ("Defensoría Pública, {city}", "Colegio de Abogados de {city}"),
        "prisons": ("Instituto Nacional Penitenciario", "Centro Penitenciario de {city}"),
        "financial_intelligence": (
            "Unidad de Inteligencia Financiera",
            "Unidad de Análisis Financiero",
        ),
        "customs_borders": (
            "Dirección Nacional de Aduanas, {city}",
            "Migración, Aeropuerto Internacional de {city}",
        ),
        "ministry": (
            "Ministerio de Justicia, Dirección de Cooperación Internacional",
            "Ministerio del Interior",
            "Ministerio de Relaciones Exteriores",
        ),
        "civil_society": (
            "Fundación de Víctimas del Terrorismo, {city}",
            "Observatorio de Derechos Humanos, {city}",
        ),
        "academia": (
            "Universidad de {city}, Facultad de Derecho",
            "Escuela Judicial",
            "Academia de Policía, {city}",
        ),
        "international_organisation": ("Oficina Regional, {city}", "Oficina de Programa, {city}"),
        "other": ("Defensoría del Pueblo",),
    },
    "pt": {
        "police": (
            "Polícia Judiciária, {city}",
            "Serviço Nacional de Investigação Criminal, {city}",
            "Polícia Nacional, Comando de {city}",
        ),
        "prosecution": (
            "Procuradoria-Geral da República",
            "Procuradoria Provincial de {city}",
            "Ministério Público, Comarca de {city}",
        ),
        "judiciary": (
            "Tribunal Supremo",
            "Tribunal Judicial de {city}",
            "Tribunal de Relação de {city}",
        ),
        "defence": ("Ordem dos Advogados, {city}", "Defensoria Pública, {city}"),
        "prisons": ("Serviço Nacional Penitenciário", "Estabelecimento Prisional de {city}"),
        "financial_intelligence": (
            "Gabinete de Informação Financeira",
            "Unidade de Informação Financeira",
        ),
        "customs_borders": (
            "Alfândegas de {city}",
            "Serviço de Migração, Aeroporto de {city}",
        ),
        "ministry": ("Ministério da Justiça", "Ministério do Interior"),
        "civil_society": (
            "Liga dos Direitos Humanos, {city}",
            "Associação de Apoio às Vítimas, {city}",
        ),
        "academia": (
            "Universidade de {city}, Faculdade de Direito",
            "Centro de Formação Jurídica e Judiciária",
        ),
        "international_organisation": ("Escritório Regional, {city}",),
        "other": ("Provedor de Justiça",),
    },
}

# Some institutions go by their own name in their country; people there name them so about
# half the time.
_NATIONAL_ORGANISATIONS = {
    "NG": {
        "police": ("Nigeria Police Force, Counter-Terrorism Unit",),
        "prosecution": ("Federal Ministry of Justice, Complex Casework Group",),
        "financial_intelligence": ("Nigerian Financial Intelligence Unit",),
    },
    "KE": {
        "police": ("Anti-Terrorism Police Unit",),
        "prosecution": (
            "Office of the Director of Public Prosecutions, Counter-Terrorism Division",
        ),
    },
    "ML": {"prosecution": ("Pôle judiciaire spécialisé de lutte contre le terrorisme",)},
    "NE": {"judiciary": ("Tribunal de grande instance hors classe de Niamey",)},
    "BF": {
        "prosecution": ("Pôle judiciaire spécialisé dans la répression des actes de terrorisme",)
    },
    "MA": {"police": ("Bureau central d'investigations judiciaires",)},
    "PK": {
        "police": ("Counter Terrorism Department, Punjab", "National Counter Terrorism Authority")
    },
    "ID": {"police": ("Densus 88 Counter-Terrorism Special Detachment",)},
    "PH": {"financial_intelligence": ("Anti-Money Laundering Council",)},
    "CO": {"prosecution": ("Fiscalía General de la Nación",)},
    "PE": {"prosecution": ("Ministerio Público, Fiscalía de la Nación",)},
    "BR": {"police": ("Polícia Federal",)},
    "MZ": {"prosecution": ("Procuradoria-Geral da República de Moçambique",)},
    "KZ": {"financial_intelligence": ("Agency for Financial Monitoring",)},
    "UG": {"financial_intelligence": ("Financial Intelligence Authority",)},
}

# Agency types and how many in a thousand people come from each.
_AGENCIES = (
    ("police", 240),
    ("prosecution", 200),
    ("judiciary", 120),
    ("defence", 40),
    ("prisons", 80),
    ("financial_intelligence", 70),
    ("customs_borders", 70),
    ("ministry", 80),
    ("civil_society", 35),
    ("academia", 30),
    ("international_organisation", 20),
    ("other", 15),
)
# Genders per thousand, in agencies where women are fewer and where they are about as many.
_GENDERS = ("woman", "man", "other", "undisclosed")
_GENDER_SHARES = {"fewer": (360, 570, 10, 60), "even": (480, 440, 10, 70)}
_EVEN_AGENCIES = {"judiciary", "civil_society", "academia", "international_organisation"}
#: share of people who use the platform in English whatever their country's language
_ENGLISH_ANYWAY = 0.15


# --- When ----------------------------------------------------------------------------------------

# Relative activity per month (January first): term months busy, July, August, December and
# January quiet; and per weekday (Monday first).
_MONTHS = (0.8, 1.1, 1.25, 1.15, 1.2, 1.0, 0.6, 0.55, 1.15, 1.3, 1.2, 0.6)
_WEEKDAYS = (1.0, 1.0, 1.0, 1.0, 0.9, 0.3, 0.25)


@dataclass(frozen=True)
class Timeline:
    """The span data is generated in, as days since ``start`` (floats), with how likely an
    event is on each day: registrations grow over the years, everything follows the seasons."""

    start: datetime
    days: int
    season: tuple[float, ...]
    growth: tuple[float, ...]
    #: "YYYY-MM-DD " of each day, from the day before the start to the day after the end
    dates: tuple[str, ...]
    #: "HH:MM:SS.000000" of each second of a day
    clock: tuple[str, ...]

    @classmethod
    def ending(cls, end: datetime, days: int = DAYS) -> "Timeline":
        """The ``days`` before ``end``."""
        start = end - timedelta(days=days)
        season = []
        for day in range(days + 1):
            when = start.date() + timedelta(days=day)
            season.append(_MONTHS[when.month - 1] * _WEEKDAYS[when.weekday()])
        top = max(season)
        season = [weight / top for weight in season]
        # Twice as many registrations a day at the end as at the start.
        growth = [weight * (1 + day / days) / 2 for day, weight in enumerate(season)]
        dates = tuple(f"{start.date() + timedelta(days=day)} " for day in range(-1, days + 2))
        clock = tuple(
            f"{hour:02d}:{minute:02d}:{second:02d}.000000"
            for hour in range(24)
            for minute in range(60)
            for second in range(60)
        )
        return cls(start, days, tuple(season), tuple(growth), dates, clock)

    def at(self, day: float) -> datetime:
        """``day`` as a time, to the second."""
        return self.start + timedelta(seconds=round(day * 86400))

    def text(self, day: float) -> str:
        """``day`` as SQLAlchemy writes a time into SQLite, which PostgreSQL reads too: made
        directly, because a million rows of datetimes converted one by one take seconds."""
        days, seconds = divmod(round(day * 86400), 86400)
        return self.dates[days + 1] + self.clock[seconds]

    def day_of(self, moment: datetime) -> float:
        """``moment`` as days since the start (negative before it)."""
        return (moment - self.start).total_seconds() / 86400

    def draw(
        self, rng: random.Random, low: float, weights: tuple[float, ...], high: float | None = None
    ) -> float:
        """A day between ``low`` and ``high`` (the end), in working hours, as likely as
        ``weights`` say."""
        low = max(low, 0.0)
        high = self.days if high is None else min(max(high, low), self.days)
        for _ in range(50):
            day = rng.uniform(low, high)
            index = int(day)
            if index < self.days and rng.random() < weights[index]:
                break
        moment = index + rng.triangular(5, 19, 10) / 24
        if moment <= low:
            moment = low + rng.uniform(0.003, 0.1)
        return min(moment, self.days - 0.001)


# --- Modules -------------------------------------------------------------------------------------

_MODULE_LANGUAGES = ("en", "fr", "es", "ru", "ar", "zh", "pt")

# One title per theme in each language, in the order of ``_MODULE_LANGUAGES``.
_TITLES = {
    "criminal_justice": (
        "Criminal justice responses to terrorism: an introduction",
        "Introduction aux réponses de la justice pénale au terrorisme",
        "Introducción a las respuestas de la justicia penal al terrorismo",
        "Меры уголовного правосудия в ответ на терроризм: введение",
        "مقدمة في تدابير العدالة الجنائية للتصدي للإرهاب",
        "刑事司法应对恐怖主义：导论",
        "Introdução às respostas da justiça penal ao terrorismo",
    ),
    "financing": (
        "Investigating terrorist financing: from suspicious transaction reports to confiscation",
        "Enquêter sur le financement du terrorisme : des déclarations de soupçon à la confiscation",
        "Investigación de la financiación del terrorismo: de los reportes de operaciones "
        "sospechosas al decomiso",
        "Расследование финансирования терроризма: от сообщений о подозрительных операциях до "
        "конфискации",
        "التحقيق في تمويل الإرهاب: من الإبلاغ عن المعاملات المشبوهة إلى المصادرة",
        "调查恐怖主义融资：从可疑交易报告到没收",
        "Investigar o financiamento do terrorismo: das comunicações de operações suspeitas à "
        "perda de bens",
    ),
    "cbrn": (
        "Prosecuting chemical, biological, radiological and nuclear terrorism",
        "Poursuivre le terrorisme chimique, biologique, radiologique et nucléaire",
        "El enjuiciamiento del terrorismo químico, biológico, radiológico y nuclear",
        "Уголовное преследование за химический, биологический, радиологический и ядерный терроризм",
        "الملاحقة القضائية للإرهاب الكيميائي والبيولوجي والإشعاعي والنووي",
        "起诉化学、生物、放射性和核恐怖主义",
        "A ação penal contra o terrorismo químico, biológico, radiológico e nuclear",
    ),
    "foreign_fighters": (
        "Foreign terrorist fighters: evidence from conflict zones",
        "Combattants terroristes étrangers : la preuve recueillie dans les zones de conflit",
        "Combatientes terroristas extranjeros: pruebas obtenidas en zonas de conflicto",
        "Иностранные боевики-террористы: доказательства из зон конфликтов",
        "المقاتلون الإرهابيون الأجانب: الأدلة من مناطق النزاع",
        "外国恐怖主义战斗人员：来自冲突地区的证据",
        "Combatentes terroristas estrangeiros: provas obtidas em zonas de conflito",
    ),
    "electronic_evidence": (
        "Electronic evidence in terrorism cases: preservation, disclosure and admissibility",
        "La preuve électronique dans les affaires de terrorisme : conservation, communication "
        "et recevabilité",
        "La prueba electrónica en casos de terrorismo: conservación, revelación y admisibilidad",
        "Электронные доказательства по делам о терроризме: сохранение, раскрытие и допустимость",
        "الأدلة الإلكترونية في قضايا الإرهاب: الحفظ والإفصاح والمقبولية",
        "恐怖主义案件中的电子证据：保全、披露和可采性",
        "A prova eletrónica em casos de terrorismo: preservação, divulgação e admissibilidade",
    ),
    "victims": (
        "Assistance and support to victims of terrorism",
        "Assistance et soutien aux victimes du terrorisme",
        "Asistencia y apoyo a las víctimas del terrorismo",
        "Помощь и поддержка жертвам терроризма",
        "مساعدة ضحايا الإرهاب ودعمهم",
        "援助和支持恐怖主义受害者",
        "Assistência e apoio às vítimas do terrorismo",
    ),
    "children": (
        "Justice for children affected by terrorism",
        "La justice pour les enfants touchés par le terrorisme",
        "Justicia para los niños afectados por el terrorismo",
        "Правосудие в отношении детей, затронутых терроризмом",
        "العدالة للأطفال المتأثرين بالإرهاب",
        "为受恐怖主义影响的儿童伸张正义",
        "Justiça para as crianças afetadas pelo terrorismo",
    ),
    "gender": (
        "Mainstreaming gender in criminal justice responses to terrorism",
        "Intégrer le genre dans les réponses de la justice pénale au terrorisme",
        "Integración de la perspectiva de género en la respuesta de la justicia penal al "
        "terrorismo",
        "Учёт гендерной проблематики в мерах уголовного правосудия против терроризма",
        "تعميم مراعاة المنظور الجنساني في تدابير العدالة الجنائية لمكافحة الإرهاب",
        "将性别观点纳入刑事司法应对恐怖主义的工作",
        "Integrar a perspetiva de género nas respostas da justiça penal ao terrorismo",
    ),
    "prisons": (
        "Managing violent extremist prisoners and preventing radicalization in prisons",
        "Gestion des détenus extrémistes violents et prévention de la radicalisation en prison",
        "Gestión de reclusos extremistas violentos y prevención de la radicalización en las "
        "cárceles",
        "Обращение с заключёнными — насильственными экстремистами и предупреждение "
        "радикализации в тюрьмах",
        "إدارة السجناء المتطرفين العنيفين ومنع التطرف في السجون",
        "管理暴力极端主义囚犯和防止监狱中的激进化",
        "Gestão de reclusos extremistas violentos e prevenção da radicalização nas prisões",
    ),
    "cooperation": (
        "Mutual legal assistance and extradition in terrorism cases",
        "Entraide judiciaire et extradition dans les affaires de terrorisme",
        "Asistencia judicial recíproca y extradición en casos de terrorismo",
        "Взаимная правовая помощь и выдача по делам о терроризме",
        "المساعدة القانونية المتبادلة وتسليم المطلوبين في قضايا الإرهاب",
        "恐怖主义案件中的司法协助和引渡",
        "Auxílio judiciário mútuo e extradição em casos de terrorismo",
    ),
    "prevention": (
        "Preventing violent extremism conducive to terrorism: the role of criminal justice",
        "Prévenir l'extrémisme violent pouvant conduire au terrorisme : le rôle de la justice "
        "pénale",
        "Prevención del extremismo violento que conduce al terrorismo: el papel de la justicia "
        "penal",
        "Предупреждение насильственного экстремизма, ведущего к терроризму: роль уголовного "
        "правосудия",
        "منع التطرف العنيف المفضي إلى الإرهاب: دور العدالة الجنائية",
        "防止助长恐怖主义的暴力极端主义：刑事司法的作用",
        "Prevenir o extremismo violento que conduz ao terrorismo: o papel da justiça penal",
    ),
}

_SUMMARIES = {
    "en": "{title}: a self-paced module for police officers, prosecutors, judges and other "
    "criminal justice practitioners, with a case study and a post-test.",
    "fr": "{title} : un module en autoformation pour les policiers, procureurs, juges et autres "
    "praticiens de la justice pénale, avec une étude de cas et un test final.",
    "es": "{title}: un módulo de autoaprendizaje para policías, fiscales, jueces y otros "
    "profesionales de la justicia penal, con un estudio de caso y una evaluación final.",
    "ru": "{title}: модуль для самостоятельного изучения для сотрудников полиции, прокуроров, "
    "судей и других специалистов системы уголовного правосудия, с практическим примером и "
    "итоговым тестом.",
    "ar": "{title}: وحدة للتعلم الذاتي موجهة إلى أفراد الشرطة وأعضاء النيابة العامة والقضاة "
    "وغيرهم من العاملين في مجال العدالة الجنائية، مع دراسة حالة واختبار نهائي.",
    "zh": "{title}：面向警察、检察官、法官和其他刑事司法从业人员的自学单元，"
    "包括案例研究和结业测试。",
    "pt": "{title}: um módulo de autoaprendizagem para polícias, procuradores, juízes e outros "
    "profissionais da justiça penal, com um estudo de caso e um teste final.",
}

_LESSON_TITLES = {
    "en": (
        "Introduction and learning objectives",
        "The international legal framework",
        "From investigation to adjudication",
        "Case study and good practices",
    ),
    "fr": (
        "Introduction et objectifs",
        "Le cadre juridique international",
        "De l'enquête au jugement",
        "Étude de cas et bonnes pratiques",
    ),
    "es": (
        "Introducción y objetivos",
        "El marco jurídico internacional",
        "De la investigación al juicio",
        "Estudio de caso y buenas prácticas",
    ),
    "ru": (
        "Введение и цели",
        "Международно-правовая база",
        "От расследования до судебного разбирательства",
        "Практический пример и передовой опыт",
    ),
    "ar": (
        "مقدمة وأهداف",
        "الإطار القانوني الدولي",
        "من التحقيق إلى المحاكمة",
        "دراسة حالة وممارسات جيدة",
    ),
    "zh": ("导言和学习目标", "国际法律框架", "从调查到审判", "案例研究和良好做法"),
    "pt": (
        "Introdução e objetivos",
        "O quadro jurídico internacional",
        "Da investigação ao julgamento",
        "Estudo de caso e boas práticas",
    ),
}

# (pre-test title, post-test title, true, false) per language.
_QUIZ_WORDS = {
    "en": ("Pre-test: what do you know already?", "Post-test", "True", "False"),
    "fr": ("Test initial", "Test final", "Vrai", "Faux"),
    "es": ("Evaluación inicial", "Evaluación final", "Verdadero", "Falso"),
    "ru": ("Входной тест", "Итоговый тест", "Верно", "Неверно"),
    "ar": ("الاختبار القبلي", "الاختبار البعدي", "صحيح", "خطأ"),
    "zh": ("课前测试", "结业测试", "正确", "错误"),
    "pt": ("Teste inicial", "Teste final", "Verdadeiro", "Falso"),
}

# The questions of the pre-test and post-test of every module added here: (kind, text per
# language, options per language with the right one first, or for true/false the right answer).
_QUESTIONS = (
    (
        "single",
        {
            "en": "Which Security Council resolution requires all States to criminalise the "
            "financing of terrorism?",
            "fr": "Quelle résolution du Conseil de sécurité impose à tous les États d'ériger en "
            "infraction le financement du terrorisme ?",
            "es": "¿Qué resolución del Consejo de Seguridad obliga a todos los Estados a tipificar "
            "como delito la financiación del terrorismo?",
            "ru": "Какая резолюция Совета Безопасности обязывает все государства "
            "криминализировать финансирование терроризма?",
            "ar": "ما هو قرار مجلس الأمن الذي يلزم جميع الدول بتجريم تمويل الإرهاب؟",
            "zh": "哪一项安全理事会决议要求所有国家将资助恐怖主义定为刑事罪？",
            "pt": "Que resolução do Conselho de Segurança obriga todos os Estados a criminalizar o "
            "financiamento do terrorismo?",
        },
        ("1373 (2001)", "2396 (2017)", "2482 (2019)"),
    ),
    (
        "single",
        {
            "en": "Which resolution addresses the threat posed by foreign terrorist fighters?",
            "fr": "Quelle résolution traite de la menace que représentent les combattants "
            "terroristes étrangers ?",
            "es": "¿Qué resolución aborda la amenaza que representan los combatientes terroristas "
            "extranjeros?",
            "ru": "Какая резолюция посвящена угрозе, исходящей от иностранных "
            "боевиков-террористов?",
            "ar": "ما هو القرار الذي يتناول التهديد الذي يشكله المقاتلون الإرهابيون الأجانب؟",
            "zh": "哪一项决议涉及外国恐怖主义战斗人员构成的威胁？",
            "pt": "Que resolução trata da ameaça representada pelos combatentes terroristas "
            "estrangeiros?",
        },
        ("2178 (2014)", "1267 (1999)", "1540 (2004)"),
    ),
    (
        "true_false",
        {
            "en": "Fair trial guarantees apply in terrorism cases as in any other criminal case.",
            "fr": "Les garanties du procès équitable s'appliquent aux affaires de terrorisme comme "
            "à toute autre affaire pénale.",
            "es": "Las garantías del debido proceso se aplican en los casos de terrorismo como en "
            "cualquier otra causa penal.",
            "ru": "Гарантии справедливого судебного разбирательства применяются к делам о "
            "терроризме так же, как к любым другим уголовным делам.",
            "ar": "تنطبق ضمانات المحاكمة العادلة على قضايا الإرهاب كما تنطبق على أي قضية جنائية "
            "أخرى.",
            "zh": "公正审判保障适用于恐怖主义案件，与任何其他刑事案件相同。",
            "pt": "As garantias de um julgamento justo aplicam-se aos casos de terrorismo como a "
            "qualquer outro processo penal.",
        },
        True,
    ),
    (
        "true_false",
        {
            "en": "Mutual legal assistance is never needed when evidence is held by a service "
            "provider abroad.",
            "fr": "L'entraide judiciaire n'est jamais nécessaire lorsque la preuve est détenue par "
            "un fournisseur de services à l'étranger.",
            "es": "La asistencia judicial recíproca nunca es necesaria cuando la prueba está en "
            "poder de un proveedor de servicios en el extranjero.",
            "ru": "Взаимная правовая помощь никогда не требуется, если доказательства хранятся у "
            "поставщика услуг за рубежом.",
            "ar": "لا حاجة أبداً إلى المساعدة القانونية المتبادلة عندما تكون الأدلة في حوزة مقدم "
            "خدمات في الخارج.",
            "zh": "当证据由境外服务提供商持有时，从不需要司法协助。",
            "pt": "O auxílio judiciário mútuo nunca é necessário quando a prova está na posse de "
            "um prestador de serviços no estrangeiro.",
        },
        False,
    ),
    (
        "true_false",
        {
            "en": "Children recruited by terrorist groups should be treated primarily as victims.",
            "fr": "Les enfants recrutés par des groupes terroristes doivent être traités avant "
            "tout comme des victimes.",
            "es": "Los niños reclutados por grupos terroristas deben ser tratados ante todo como "
            "víctimas.",
            "ru": "С детьми, завербованными террористическими группами, следует обращаться "
            "прежде всего как с жертвами.",
            "ar": "ينبغي معاملة الأطفال الذين تجندهم الجماعات الإرهابية بوصفهم ضحايا في المقام "
            "الأول.",
            "zh": "被恐怖主义团体招募的儿童应首先被视为受害者。",
            "pt": "As crianças recrutadas por grupos terroristas devem ser tratadas antes de mais "
            "como vítimas.",
        },
        True,
    ),
)
_RESOLUTION = {
    "en": "Resolution {}",
    "fr": "Résolution {}",
    "es": "Resolución {}",
    "ru": "Резолюция {}",
    "ar": "القرار {}",
    "zh": "第{}号决议",
    "pt": "Resolução {}",
}


def module_catalogue() -> list[tuple[str, str, str]]:
    """Every module this command can add, as (title, theme, language), in the order it adds
    them: one per theme in English first, then the other languages in turn, so that even a few
    cover every theme and several languages."""
    themes = list(_TITLES)
    english = [(_TITLES[theme][0], theme, "en") for theme in themes]
    others = []
    languages = _MODULE_LANGUAGES[1:]
    for round_ in range(len(languages)):
        for number, theme in enumerate(themes):
            index = (number + round_) % len(languages)
            others.append((_TITLES[theme][index + 1], theme, languages[index]))
    return english + others


@dataclass(frozen=True)
class Scores:
    """The results, in percent, of a test whose questions are each answered right with the
    same chance, and how likely each is: drawn with one random number."""

    percents: tuple[int, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, points: tuple[int, ...], chance: float, lowest=0, highest=100) -> "Scores":
        """The results from ``lowest`` to ``highest`` of a test worth ``points`` a question
        (none without questions), rounded as ``courses.services.submit_attempt`` rounds them."""
        if not points:
            return cls((), ())
        totals = {0: 1.0}
        for value in points:
            after: dict[int, float] = {}
            for total, probability in totals.items():
                after[total + value] = after.get(total + value, 0) + probability * chance
                after[total] = after.get(total, 0) + probability * (1 - chance)
            totals = after
        most = sum(points) or 1
        percents: dict[int, float] = {}
        for total, probability in totals.items():
            percent = round(total * 100 / most)
            if lowest <= percent <= highest:
                percents[percent] = percents.get(percent, 0) + probability
        ordered = sorted(percents)
        return cls(tuple(ordered), tuple(_cumulative(percents[p] for p in ordered)))

    def __bool__(self) -> bool:
        return bool(self.percents)

    def draw(self, rng: random.Random) -> int:
        """One result."""
        index = bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])
        return self.percents[min(index, len(self.percents) - 1)]


@dataclass(frozen=True)
class ModuleFacts:
    """What generating enrolments needs to know about one published module."""

    id: int
    title: str
    language: str
    #: day of publication, counted as ``Timeline`` does
    opened: float
    lesson_ids: tuple[int, ...]
    #: pre-test results, most of them modest; empty when there is no pre-test
    pre_test: Scores
    #: post-test results that pass, most of them good, and that fail; empty without a post-test
    passed: Scores
    failed: Scores


def published_modules(timeline: Timeline) -> list[ModuleFacts]:
    """The published modules with their lessons and tests, in four queries."""
    modules = db.session.execute(
        select(Module.id, Module.title, Module.language, Module.published_at, Module.created_at)
        .where(Module.is_published)
        .order_by(Module.id)
    ).all()
    lessons: dict[int, list[int]] = {}
    for module_id, lesson_id in db.session.execute(
        select(Lesson.module_id, Lesson.id).order_by(Lesson.module_id, Lesson.position, Lesson.id)
    ):
        lessons.setdefault(module_id, []).append(lesson_id)
    quizzes = {
        quiz_id: (module_id, kind, pass_mark)
        for quiz_id, module_id, kind, pass_mark in db.session.execute(
            select(Quiz.id, Quiz.module_id, Quiz.kind, Quiz.pass_mark)
        )
    }
    points: dict[tuple[int, str], list[int]] = {}
    pass_marks: dict[int, int] = {}
    for quiz_id, question_points in db.session.execute(
        select(Question.quiz_id, Question.points).order_by(Question.quiz_id, Question.position)
    ):
        module_id, kind, pass_mark = quizzes[quiz_id]
        points.setdefault((module_id, kind), []).append(question_points)
        if kind == "post_test":
            pass_marks[module_id] = pass_mark
    facts = []
    for module_id, title, language, published_at, created_at in modules:
        opened = timeline.day_of(published_at or created_at)
        pre = tuple(points.get((module_id, "pre_test"), ()))
        post = tuple(points.get((module_id, "post_test"), ()))
        pass_mark = pass_marks.get(module_id, 0)
        facts.append(
            ModuleFacts(
                id=module_id,
                title=title,
                language=language,
                opened=min(opened, timeline.days - 1.0),
                lesson_ids=tuple(lessons.get(module_id, ())),
                pre_test=Scores.of(pre, 0.5),
                passed=Scores.of(post, 0.85, lowest=pass_mark),
                failed=Scores.of(post, 0.45, highest=pass_mark - 1),
            )
        )
    return facts


def addable_modules() -> list[tuple[str, str, str]]:
    """The catalogue's modules whose title no module has yet."""
    existing = set(db.session.scalars(select(Module.title)))
    return [entry for entry in module_catalogue() if entry[0] not in existing]


def modules_to_add(users: int, enrolments: int, published: int, addable: int) -> int:
    """How many modules to add so that ``users`` people can hold ``enrolments`` enrolments
    with some choice: at least ``MIN_MODULES``, and two and a half times as many as each
    person takes on average."""
    if not enrolments:
        return 0
    wanted = max(MIN_MODULES, math.ceil(2.5 * enrolments / users))
    return max(0, min(addable, wanted - published))


def capacity_problem(users: int, enrolments: int, published: int, addable: int) -> str | None:
    """Why ``users`` new people cannot hold ``enrolments`` enrolments, or ``None``."""
    most = users * (published + addable)
    if enrolments <= most:
        return None
    if not most:
        return "There is no published module to enrol in, and this command can add none."
    return (
        f"{users} new people can hold at most {most} enrolments: each enrols once in each of the "
        f"{published} published modules and the {addable} this command can add. Ask for at most "
        f"{most} enrolments, or for at least {math.ceil(enrolments / (published + addable))} "
        "people."
    )


def add_modules(entries: list[tuple[str, str, str]], timeline: Timeline, seed: int) -> int:
    """Publish the modules ``entries`` name, each with three or four lessons, a pre-test and
    a post-test of five questions; the first dozen opened before the timeline starts, the
    others during its first year and a half. Returns how many.

    Built whole and flushed once (the authoring services add a lesson or question at a time,
    a dozen statements each), with lesson bodies cleaned as those services clean them."""
    author_id = db.session.scalar(
        select(User.id)
        .where(User.role.in_(("trainer", "administrator")))
        .order_by(User.role.desc(), User.id)
        .limit(1)
    )
    for number, (title, theme, language) in enumerate(entries):
        rng = random.Random(f"{seed}/{title}")  # noqa: S311 (made-up data, not secrets)
        if number < MIN_MODULES:
            opened = rng.uniform(-150, -5)
        else:
            opened = rng.uniform(0, timeline.days / 2)
        published_at = timeline.at(opened)
        summary = _SUMMARIES[language].format(title=title)
        lesson_titles = _LESSON_TITLES[language][: rng.choice((3, 4, 4))]
        module = Module(
            title=title,
            summary=summary,
            theme=theme,
            language=language,
            estimated_minutes=rng.choice((90, 120, 150, 180, 240, 300)),
            is_published=True,
            enrolment_mode="open",
            created_by_id=author_id,
            created_at=published_at - timedelta(days=rng.uniform(10, 60)),
            published_at=published_at,
            lesson_count=len(lesson_titles),
            lessons=[
                Lesson(
                    position=position,
                    title=lesson_title,
                    body_html=clean_lesson_html(f"<h2>{lesson_title}</h2><p>{summary}</p>"),
                    created_at=published_at,
                    updated_at=published_at,
                )
                for position, lesson_title in enumerate(lesson_titles, start=1)
            ],
        )
        pre_title, post_title, true, false = _QUIZ_WORDS[language]
        for kind, quiz_title in (("pre_test", pre_title), ("post_test", post_title)):
            quiz = Quiz(
                kind=kind,
                title=quiz_title,
                pass_mark=60,
                max_attempts=0 if kind == "pre_test" else 3,
            )
            for position, (question_kind, texts, answers) in enumerate(_QUESTIONS, start=1):
                if question_kind == "true_false":
                    options = [(true, answers), (false, not answers)]
                else:
                    right, *wrong = (_RESOLUTION[language].format(name) for name in answers)
                    options = [(right, True), *((option, False) for option in wrong)]
                    rng.shuffle(options)
                quiz.questions.append(
                    Question(
                        position=position,
                        kind=question_kind,
                        text=texts[language],
                        points=1,
                        options=[
                            Option(position=place, text=option, is_correct=correct)
                            for place, (option, correct) in enumerate(options, start=1)
                        ],
                    )
                )
            module.quizzes.append(quiz)
        db.session.add(module)
    db.session.flush()
    return len(entries)


# --- People --------------------------------------------------------------------------------------


def next_bulk_number() -> int:
    """The number after the highest ``u<number>@bulk.example.org`` address (1 when none)."""
    emails = db.session.scalars(
        select(User.email)
        .where(User.email.like(f"u%@{EMAIL_DOMAIN}"))
        .order_by(func.length(User.email).desc(), User.email.desc())
        .limit(20)
    )
    numbers = [int(match.group(1)) for email in emails if (match := _EMAIL.fullmatch(email))]
    return max(numbers, default=0) + 1


def bulk_email(number: int) -> str:
    """The address of generated person ``number``."""
    return f"u{number:06d}@{EMAIL_DOMAIN}"


def _cumulative(weights) -> list[float]:
    total, running = 0.0, []
    for weight in weights:
        total += weight
        running.append(total)
    return running


_COUNTRY_WEIGHTS = _cumulative(country[1] for country in _COUNTRIES)
_AGENCY_WEIGHTS = _cumulative(share for _, share in _AGENCIES)
_GENDER_WEIGHTS = {kind: _cumulative(shares) for kind, shares in _GENDER_SHARES.items()}


def _full_name(rng: random.Random, names: str, gender: str) -> str:
    women, men, families = _NAMES[names]
    if gender == "other" or gender == "undisclosed":
        gender = rng.choice(("woman", "man"))
    given = rng.choice(women if gender == "woman" else men)
    family = rng.choice(families)
    if names == "spanish" and rng.random() < 0.6:
        family = f"{family} {rng.choice(families)}"  # both surnames, as on an identity card
    if gender == "woman":
        if names == "central_asia" and family.endswith(("ov", "ev")):
            family += "a"
        elif names == "mauritania":
            family = family.replace("Ould ", "Mint ", 1)
    if names in _FAMILY_NAME_FIRST:
        return f"{family} {given}"
    return f"{given} {family}"


def _organisation(rng: random.Random, country: str, org_language: str, agency: str, city: str):
    national = _NATIONAL_ORGANISATIONS.get(country, {}).get(agency)
    if national and rng.random() < 0.5:
        return rng.choice(national)
    return rng.choice(_ORGANISATIONS[org_language][agency]).format(city=city)


def person(rng: random.Random, number: int, timeline: Timeline) -> dict:
    """A practitioner, as a row of ``users`` without password hash and last login."""
    code, _, names, org_language, language, cities = rng.choices(
        _COUNTRIES, cum_weights=_COUNTRY_WEIGHTS
    )[0]
    agency = rng.choices(_AGENCIES, cum_weights=_AGENCY_WEIGHTS)[0][0]
    shares = _GENDER_WEIGHTS["even" if agency in _EVEN_AGENCIES else "fewer"]
    gender = rng.choices(_GENDERS, cum_weights=shares)[0]
    if language != "en" and rng.random() < _ENGLISH_ANYWAY:
        language = "en"
    registered = timeline.draw(rng, 0.0, timeline.growth)
    confirmed = min(registered + rng.uniform(0.002, 0.5), timeline.days)
    return {
        "email": bulk_email(number),
        "name": _full_name(rng, names, gender),
        "country": code,
        "organisation": _organisation(rng, code, org_language, agency, rng.choice(cities)),
        "agency_type": agency,
        "gender": gender,
        "language": language,
        "role": "practitioner",
        "active": True,
        "email_confirmed_at": timeline.at(confirmed),
        "created_at": timeline.at(registered),
    }


# --- Enrolments ----------------------------------------------------------------------------------

ENROLMENT_COLUMNS = (
    "module_id",
    "user_id",
    "status",
    "requested_at",
    "enrolled_at",
    "decided_by_id",
    "lessons_done",
    "progress_percent",
    "last_lesson_id",
    "started_at",
    "last_activity_at",
    "pre_test_percent",
    "post_test_percent",
    "completed_at",
    "completion_percent",
)
#: chance that an enrolment ends in a completion (some of those fall after today and stay open)
_COMPLETES = 0.63


def enrolment_counts(rng: random.Random, users: int, enrolments: int, most: int) -> list[int]:
    """How many modules each of ``users`` people enrols in, ``enrolments`` in all, at most
    ``most`` each: a few never enrol, the others between one and ``most``, fewer the more
    modules (a beta distribution, so that not many take every module)."""
    if not enrolments:
        return [0] * users
    share = enrolments / (users * most)  # of every enrolment possible
    never = min(0.06, (1 - share) / 2)  # registered and never enrolled
    share /= 1 - never
    skew = 0.8 * (1 / share - 1)
    counts = [
        -1 if rng.random() < never else round(most * rng.betavariate(0.8, skew)) if skew else most
        for _ in range(users)
    ]
    missing = enrolments - sum(count for count in counts if count > 0)
    order = [index for index, count in enumerate(counts) if count >= 0]
    while missing:
        rng.shuffle(order)
        step = 1 if missing > 0 else -1
        for index in order:
            count = counts[index] + step
            if 0 <= count <= most:
                counts[index] = count
                missing -= step
                if not missing:
                    break
    return [max(count, 0) for count in counts]


def module_preferences(modules: list[ModuleFacts], seed: int) -> dict[str, list[float]]:
    """For each interface language, the inverse weight of each module (as ``_pick`` takes
    them): popular modules and modules in one's language (or else in English) are chosen more
    often."""
    popularity = [
        random.Random(f"{seed}/popularity/{module.title}").lognormvariate(0, 0.5)  # noqa: S311
        for module in modules
    ]
    preferences = {}
    for language in _MODULE_LANGUAGES:
        inverse = []
        for module, weight in zip(modules, popularity, strict=True):
            if module.language == language:
                weight *= 8
            elif module.language == "en":
                weight *= 2.5
            else:
                weight *= 0.25
            inverse.append(1 / weight)
        preferences[language] = inverse
    return preferences


def enrolments_of(
    rng: random.Random,
    registered: float,
    chosen: list[ModuleFacts],
    timeline: Timeline,
) -> tuple[list[list], float]:
    """Rows of ``enrolments`` (``ENROLMENT_COLUMNS``, times as text, no user id yet) for
    someone registered on day ``registered`` who enrols in ``chosen``, the first soon after
    registering, the others over the following months; and the day of their last activity."""
    rows = []
    last_seen = registered
    text_of = timeline.text
    end = timeline.days
    for number, module in enumerate(chosen):
        if number == 0 and module.opened <= registered:
            enrolled = min(registered + rng.expovariate(0.5), end - 0.001)
        else:  # mostly in the months after registering (or after the module opened)
            low = max(registered, module.opened)
            enrolled = timeline.draw(rng, low, timeline.season, low + rng.expovariate(1 / 240))
        lessons = module.lesson_ids
        total = len(lessons)
        pre = post = completed = completion = None
        finished = None
        if rng.random() < _COMPLETES:
            days = min(150.0, max(0.05, rng.lognormvariate(2.2, 0.9)))  # days to weeks
            if enrolled + days < end:
                finished = enrolled + days
        if finished is not None:
            started = enrolled + rng.uniform(0.001, min(1.0, (finished - enrolled) / 2))
            done = total
            if module.passed:
                post = completion = module.passed.draw(rng)
            completed = text_of(finished)
            last = finished
        elif rng.random() < 0.25 or enrolled + 0.3 >= end:
            done, started, last = 0, None, None  # enrolled, not begun
        else:
            started = enrolled + rng.uniform(0.001, 0.3)
            done = rng.randrange(total) if total else 0
            if module.failed and total and rng.random() < 0.15:
                done = total  # every lesson done, the post-test not passed yet
                post = module.failed.draw(rng)
            last = max(started, min(started + rng.uniform(0, 45), end - 0.0005))
        if started is not None and module.pre_test and rng.random() < 0.8:
            pre = module.pre_test.draw(rng)
        if last is not None and last > last_seen:
            last_seen = last
        if enrolled > last_seen:
            last_seen = enrolled
        enrolled_at = text_of(enrolled)
        rows.append(
            [
                module.id,
                None,
                "active",
                enrolled_at,
                enrolled_at,
                None,
                done,
                100 if completed else (done * 100 // total if total else 0),
                lessons[done - 1] if done else (lessons[0] if started and lessons else None),
                text_of(started) if started is not None else None,
                text_of(last) if last is not None else None,
                pre,
                post,
                completed,
                completion,
            ]
        )
    return rows, last_seen


def _pick(rng: random.Random, inverse_weights: list[float], count: int) -> list[int]:
    """``count`` different indexes, each likely as its weight says (Efraimidis and Spirakis:
    the largest ``random() ** (1 / weight)`` win)."""
    if not count:
        return []
    random_ = rng.random
    keys = [random_() ** inverse for inverse in inverse_weights]
    return heapq.nlargest(count, range(len(keys)), key=keys.__getitem__)


# --- Writing -------------------------------------------------------------------------------------


@dataclass
class Summary:
    """What a run added."""

    users: int = 0
    enrolments: int = 0
    completed: int = 0
    modules: int = 0
    first_email: str = ""
    last_email: str = ""


def check(users: int, enrolments: int) -> None:
    """Raise ``BulkDataError`` unless ``users`` new people can hold ``enrolments``."""
    if users < 1:
        raise BulkDataError("--users must be at least 1.")
    if enrolments < 0:
        raise BulkDataError("--enrolments cannot be negative.")
    published = db.session.scalar(select(func.count(Module.id)).where(Module.is_published))
    problem = capacity_problem(users, enrolments, published, len(addable_modules()))
    if problem:
        raise BulkDataError(problem)


def generate(
    users: int,
    enrolments: int,
    *,
    seed: int = 1,
    batch: int = 10_000,
    progress: Callable[[int], None] = lambda count: None,
    today: date | None = None,
) -> Summary:
    """Add ``users`` practitioners and ``enrolments`` enrolments of theirs, and the modules
    they need, in the session's transaction; ``progress`` hears how many rows were written.

    Raises ``BulkDataError`` before changing anything when it cannot be done. The caller commits.
    """
    check(users, enrolments)
    end = datetime.combine(today or datetime.now(UTC).date(), datetime.min.time())
    timeline = Timeline.ending(end)
    summary = Summary()
    modules = published_modules(timeline)
    addable = addable_modules()
    to_add = modules_to_add(users, enrolments, len(modules), len(addable))
    if to_add:
        summary.modules = add_modules(addable[:to_add], timeline, seed)
        modules = published_modules(timeline)
    first = next_bulk_number()
    summary.first_email, summary.last_email = bulk_email(first), bulk_email(first + users - 1)
    # One stream per purpose, seeded with where numbering starts: a second run gets other people.
    counts = enrolment_counts(
        random.Random(f"{seed}/{first}/counts"),  # noqa: S311 (made-up data, not secrets)
        users,
        enrolments,
        len(modules),
    )
    people = (
        person(rng, first + index, timeline)
        for rng in [random.Random(f"{seed}/{first}/people")]  # noqa: S311
        for index in range(users)
    )
    connection = db.session.connection()
    with _sqlite_cache(connection):
        _write(
            connection,
            zip(people, counts, strict=True),
            modules,
            random.Random(f"{seed}/{first}/enrolments"),  # noqa: S311
            module_preferences(modules, seed),
            timeline,
            batch=batch,
            per_batch=max(1, min(batch, math.ceil(batch * users / max(enrolments, 1)))),
            summary=summary,
            progress=progress,
        )
    if connection.dialect.name == "postgresql":
        # The planner's statistics, as autovacuum would update them some minutes later.
        connection.execute(text("ANALYZE users, enrolments"))
    return summary


def _write(
    connection,
    people: Iterator[tuple[dict, int]],
    modules: list[ModuleFacts],
    rng: random.Random,
    preferences: dict[str, list[float]],
    timeline: Timeline,
    *,
    batch: int,
    per_batch: int,
    summary: Summary,
    progress: Callable[[int], None],
) -> None:
    """Write ``people`` (each with how many modules they enrol in), ``per_batch`` at a time,
    and their enrolments, ``batch`` at a time."""
    password_hash = hash_password(PASSWORD)  # once: Argon2 is slow on purpose
    write_users = _user_writer(connection)
    write_enrolments = _enrolment_writer(connection)
    pending: list[list] = []
    while chunk := list(itertools.islice(people, per_batch)):
        rows_of_people = []
        for row, count in chunk:
            picked = _pick(rng, preferences[row["language"]], count)
            rows, last_seen = enrolments_of(
                rng, timeline.day_of(row["created_at"]), [modules[i] for i in picked], timeline
            )
            row["password_hash"] = password_hash
            row["last_login_at"] = timeline.at(
                max(last_seen, timeline.day_of(row["email_confirmed_at"]))
            )
            rows_of_people.append(rows)
        ids = write_users([row for row, _ in chunk])
        for user_id, rows in zip(ids, rows_of_people, strict=True):
            for row in rows:
                row[1] = user_id
            pending.extend(rows)
        summary.users += len(chunk)
        progress(len(chunk))
        while len(pending) >= batch:
            rows = pending[:batch]
            del pending[:batch]
            summary.completed += write_enrolments(rows)
            summary.enrolments += len(rows)
            progress(len(rows))
    if pending:
        summary.completed += write_enrolments(pending)
        summary.enrolments += len(pending)
        progress(len(pending))


@contextlib.contextmanager
def _sqlite_cache(connection) -> Iterator[None]:
    """On SQLite, a page cache of 64 MiB while rows are written (instead of 2 MiB): the
    indexes on enrolments, written out of order, then stay in memory until the commit, which
    saved about a tenth of the time and half the system time for a million enrolments."""
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql("PRAGMA cache_size = -65536")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


USER_COLUMNS = (
    "email",
    "name",
    "password_hash",
    "country",
    "organisation",
    "agency_type",
    "gender",
    "language",
    "role",
    "active",
    "email_confirmed_at",
    "created_at",
    "last_login_at",
)


def _user_writer(connection) -> Callable[[list[dict]], list[int]]:
    """A function that writes rows of ``users`` and returns their ids in the same order.

    On PostgreSQL the ids are taken from the table's sequence first, as an insert would take
    them, and the rows copied with them: psycopg would otherwise parse each multi-row INSERT
    of a thousand people in Python. Elsewhere one INSERT ... RETURNING for many rows.
    """
    if connection.dialect.name == "postgresql":
        psycopg = connection.connection.driver_connection
        reserve = text(
            "SELECT nextval(pg_get_serial_sequence('users', 'id')) FROM generate_series(1, :count)"
        )
        # COPY passes by the model's defaults: the opaque xAPI name is drawn here.
        statement = f"COPY users (id, {', '.join(USER_COLUMNS)}, xapi_id) FROM STDIN"

        def copy(rows: list[dict]) -> list[int]:
            ids = sorted(connection.execute(reserve, {"count": len(rows)}).scalars())
            with psycopg.cursor() as cursor, cursor.copy(statement) as writer:
                for user_id, row in zip(ids, rows, strict=True):
                    values = (row[column] for column in USER_COLUMNS)
                    writer.write_row((user_id, *values, uuid4().hex))
            return ids

        return copy

    users = User.__table__
    statement = insert(users).returning(users.c.id, sort_by_parameter_order=True)

    def insert_many(rows: list[dict]) -> list[int]:
        return list(connection.execute(statement, rows).scalars())

    return insert_many


def _enrolment_writer(connection) -> Callable[[list[list]], int]:
    """A function that writes rows of ``enrolments`` and says how many are completions:
    ``COPY`` on PostgreSQL, an ``INSERT`` executed for many rows elsewhere."""
    completed_at = ENROLMENT_COLUMNS.index("completed_at")
    if connection.dialect.name == "postgresql":
        psycopg = connection.connection.driver_connection
        statement = f"COPY enrolments ({', '.join(ENROLMENT_COLUMNS)}) FROM STDIN"

        def copy(rows: list[list]) -> int:
            with psycopg.cursor() as cursor, cursor.copy(statement) as writer:
                for row in rows:
                    writer.write_row(row)
            return sum(1 for row in rows if row[completed_at] is not None)

        return copy

    # The Core statement, executed by the driver: SQLAlchemy would otherwise convert each of
    # the rows' times in Python, which takes longer than SQLite takes to store them.
    compiled = insert(Enrolment.__table__).compile(
        dialect=connection.dialect, column_keys=list(ENROLMENT_COLUMNS)
    )
    if tuple(compiled.positiontup or ()) != ENROLMENT_COLUMNS:
        raise RuntimeError(f"Unexpected INSERT for enrolments: {compiled}")
    statement = str(compiled)

    def execute_many(rows: list[list]) -> int:
        connection.exec_driver_sql(statement, [tuple(row) for row in rows])
        return sum(1 for row in rows if row[completed_at] is not None)

    return execute_many
