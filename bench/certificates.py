"""Certificates: what rendering one PDF costs in each of the seven languages, and signing its
credential.

Not a test: it prints figures. Run it with ``make bench-certificates`` or ``.venv/bin/python
bench/certificates.py`` (``--rounds 5``). For each language a certificate (a name and a module
title in that language's script) is laid out by WeasyPrint with its QR code and its signed Open
Badges credential attached, as the background job does at issue: the median and the slowest of
the rounds, and the document's size. A PDF is made once per certificate and language and then
served from storage, so this is the work of one issue, not of each download.

The machine's load averages are printed beside, since other work changes the figures.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from courses import certificate_documents, credentials  # noqa: E402
from courses.models import Certificate, Enrolment, Module  # noqa: E402
from learnplatform import create_app  # noqa: E402
from learnplatform.accounts.models import User  # noqa: E402

#: a holder's name and a module's title as a learner of each language would see them
SAMPLES = {
    "en": ("Aïcha Maïga", "Countering the financing of terrorism"),
    "fr": ("Aïcha Maïga", "Lutte contre le financement du terrorisme"),
    "es": ("José Núñez", "Lucha contra la financiación del terrorismo"),
    "ru": ("Ирина Петрова", "Противодействие финансированию терроризма"),
    "ar": ("فاطمة الزهراء بن علي", "مكافحة تمويل الإرهاب"),
    "zh": ("王小明", "打击资助恐怖主义"),
    "pt": ("João Silva", "Combate ao financiamento do terrorismo"),
}


def certificate_in(language: str, number: int) -> Certificate:
    name, title = SAMPLES[language]
    certificate = Certificate(
        id=number,
        status_index=number,
        code=f"BENCH{number:07d}"[:12],
        learner_name=name,
        module_title=title,
        issued_at=datetime(2026, 12, 3, 10, 0),
        language=language,
        score_percent=90,
    )
    certificate.enrolment = Enrolment(
        user=User(name=name, time_zone="UTC"),
        module=Module(
            id=number, title=title, summary="How terrorist groups raise, move and use funds."
        ),
    )
    return certificate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-certificates-"))
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite'}",
            "STORAGE_DIR": str(folder / "storage"),
            "CREDENTIALS_KEY_FILE": str(folder / "credentials-ed25519.pem"),
            "PUBLIC_ORIGIN": "https://learning.example.org",
        }
    )
    credentials.create_key(Path(app.config["CREDENTIALS_KEY_FILE"]))
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"Certificate PDFs, {arguments.rounds} rounds per language (load average {load})")
    print(f"{'language':<9} {'p50 ms':>8} {'max ms':>8} {'signing ms':>11} {'size kB':>8}")
    with app.test_request_context():
        for language in SAMPLES:
            timings, signing, size = [], [], 0
            for round_number in range(arguments.rounds + 1):
                certificate = certificate_in(language, round_number + 1)
                started = time.perf_counter()
                credential = certificate_documents.credential_json(certificate)
                signed = time.perf_counter()
                page = certificate_documents.page_of(certificate, language)
                pdf = certificate_documents.render_pdf(page, credential)
                finished = time.perf_counter()
                if round_number:  # the first round loads fonts and Pango: left out
                    timings.append((finished - started) * 1000)
                    signing.append((signed - started) * 1000)
                size = len(pdf)
            print(
                f"{language:<9} {statistics.median(timings):>8.0f} {max(timings):>8.0f} "
                f"{statistics.median(signing):>11.2f} {size / 1024:>8.0f}"
            )


if __name__ == "__main__":
    main()
