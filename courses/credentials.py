"""Certificates as Open Badges 3.0 credentials (W3C Verifiable Credentials 2.0).

Each certificate becomes an ``OpenBadgeCredential`` secured as a VC-JWT (VC-JOSE-COSE: a compact
JWS, ``alg`` EdDSA over Ed25519, media type ``application/vc+jwt``), signed with the platform's
newest key (``CREDENTIALS_KEY_FILE``, made once by ``flask credentials-key``, and the keys made
beside it by ``--rotate``). The issuer's profile and public keys, and the list of revoked
certificates (a Bitstring Status List, itself a signed credential), are published at stable
addresses (``courses.credential_views``). Nothing here reads a JSON-LD context: a VC-JWT is verified
on its signature, so no context is fetched from the network. Why this securing and not a Data
Integrity proof: docs/standards.md.
"""

import base64
import gzip
import json
import os
import threading
import time
import warnings
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import OKPKey
from sqlalchemy import func, or_, select

from courses.models import Certificate
from learnplatform.extensions import db
from learnplatform.xapi.activities import public_url

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
#: the media type of a credential secured as a JWT (VC-JOSE-COSE)
MEDIA_TYPE = "application/vc+jwt"
#: what a key withdrawn by ``flask credentials-key --withdraw`` is renamed with
WITHDRAWN = ".withdrawn"
#: the Bitstring Status List's smallest size (16 KB), so that a set bit says little about whom
STATUS_LIST_MIN_BITS = 131_072
#: how long a signed status list is served again while no certificate is revoked meanwhile
STATUS_LIST_CACHE_SECONDS = 60
#: how long a verifier may trust a copy of the status list it fetched
STATUS_LIST_VALID = timedelta(days=1)


class SigningKeyMissing(RuntimeError):
    """The platform's signing key has not been made (``flask credentials-key``)."""


# --- The keys --------------------------------------------------------------------------------
# Key 1 is CREDENTIALS_KEY_FILE; key n, made by a rotation, the file beside it named
# "<name>.<n><suffix>" (credentials-ed25519.2.pem). The platform signs with the highest number;
# every key whose file is there stays published, so that what the earlier ones signed verifies.


def key_path(number: int) -> Path:
    """The file of key ``number``."""
    first = Path(current_app.config["CREDENTIALS_KEY_FILE"])
    return first if number == 1 else first.with_name(f"{first.stem}.{number}{first.suffix}")


def key_numbers(*, withdrawn: bool = False) -> list[int]:
    """The numbers of the keys there are (made, not withdrawn), lowest first; with
    ``withdrawn``, those of the keys withdrawn."""
    first = Path(current_app.config["CREDENTIALS_KEY_FILE"])
    ending = WITHDRAWN if withdrawn else ""
    numbers = [1] if first.with_name(first.name + ending).is_file() else []
    for path in first.parent.glob(f"{first.stem}.*{first.suffix}{ending}"):
        number = path.name.removeprefix(f"{first.stem}.").removesuffix(first.suffix + ending)
        if number.isdecimal() and path.name == key_path(int(number)).name + ending:
            numbers.append(int(number))
    return sorted(set(numbers))


def current_key_number() -> int:
    """The number of the key the platform signs with now: the newest."""
    numbers = key_numbers()
    if not numbers:
        raise SigningKeyMissing(
            f"No signing key in {key_path(1)}: run `flask credentials-key` (the set-up does)."
        )
    return numbers[-1]


def create_key(path: Path) -> bool:
    """Make an Ed25519 private key in ``path`` (mode 0600) unless one is there; True if made."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        # O_EXCL: two set-ups at once make one key, and an existing key is never replaced.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "wb") as file:
        file.write(OKPKey.generate_key("Ed25519", private=True).as_pem(private=True))
    return True


@lru_cache(maxsize=4)
def _key_from_file(path: str, modified: int) -> OKPKey:
    key = OKPKey.import_key(Path(path).read_bytes())
    if key.curve_name != "Ed25519" or not key.is_private:
        raise SigningKeyMissing(f"{path} does not hold an Ed25519 private key.")
    return key


def signing_key(number: int) -> OKPKey:
    """Key ``number``'s Ed25519 private key, read once (and again when its file changes)."""
    path = key_path(number)
    try:
        modified = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        raise SigningKeyMissing(f"No signing key in {path}.") from None
    return _key_from_file(str(path), modified)


def public_key(number: int) -> dict:
    """Key ``number``'s public key as a JWK, named by the address it is published at."""
    jwk = signing_key(number).as_dict(private=False)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": jwk["x"],
        "kid": key_url(number),
        "alg": "EdDSA",
        "use": "sig",
    }


@click.command("credentials-key")
@click.option(
    "--rotate",
    is_flag=True,
    help="Make a new key to sign with from now on; the earlier ones stay published.",
)
@click.option(
    "--withdraw",
    type=int,
    metavar="NUMBER",
    help="Stop publishing an earlier key (one that leaked): what it signed no longer verifies.",
)
@with_appcontext
def credentials_key_command(rotate, withdraw):
    """Make the key credentials are signed with, unless there is one (CREDENTIALS_KEY_FILE);
    or make a new one (--rotate), or withdraw an earlier one (--withdraw NUMBER)."""
    numbers = key_numbers()
    if withdraw is not None:
        if withdraw not in numbers:
            raise click.ClickException(f"There is no key {withdraw}: the keys are {numbers}.")
        if withdraw == numbers[-1]:
            raise click.ClickException(
                f"Key {withdraw} is the one the platform signs with: rotate first (--rotate)."
            )
        path = key_path(withdraw)
        path.rename(path.with_name(path.name + WITHDRAWN))
        click.echo(
            f"Withdrew key {withdraw} ({path}{WITHDRAWN}): credentials it signed no longer "
            "verify; their holders download them again, signed with the current key."
        )
        return
    if numbers and not rotate:
        click.echo(f"The credentials signing key is {key_path(numbers[-1])}.")
        return
    # A withdrawn key's number is never given again: its signatures must not verify.
    number = max(numbers + key_numbers(withdrawn=True), default=0) + 1
    path = key_path(number)
    if create_key(path):
        click.echo(f"Made the credentials signing key {number}: {path}.")
    else:
        click.echo(f"The credentials signing key is {key_path(current_key_number())}.")


# --- Addresses -------------------------------------------------------------------------------


def issuer_url() -> str:
    """The issuer profile's address: the issuer's id in every credential."""
    return public_url("certificates.credential_issuer")


def key_url(number: int) -> str:
    """Key ``number``'s public key's address: the ``kid`` of the signatures it makes."""
    return public_url("certificates.credential_issuer_key", key_id=number)


def status_list_url(number: int) -> str:
    """The address of the status list signed with key ``number``: the one that the credentials
    that key signs name. Every list holds the same bits; one per key, so that a verifier who
    checks the list with the key of the credential (openbadgeslib does) finds it signed so."""
    return public_url("certificates.credential_status_list", list_id=number)


# --- Documents -------------------------------------------------------------------------------


def issuer_name() -> str:
    """The issuing office, as the certificates name it (``CERTIFICATE_ISSUER``)."""
    return current_app.config.get("CERTIFICATE_ISSUER") or "Counter-Terrorism Learning Platform"


def issuer_profile() -> dict:
    """The issuer as an Open Badges ``Profile``."""
    return {
        "id": issuer_url(),
        "type": ["Profile"],
        "name": issuer_name(),
        "url": public_url("main.home"),
    }


def issuer_document() -> dict:
    """The profile published at its address: a JSON-LD document, with the keys it signs with."""
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        **issuer_profile(),
        # The keys a signature's ``kid`` names, the newest first, as a controller document
        # (did:web's form) has them; each also published alone at its own address.
        "verificationMethod": [
            {
                "id": key_url(number),
                "type": "JsonWebKey",
                "controller": issuer_url(),
                "publicKeyJwk": public_key(number),
            }
            for number in reversed(key_numbers())
        ],
    }


def credential_of(certificate: Certificate, number: int) -> dict:
    """The certificate as an ``OpenBadgeCredential``: who (the name as written, no e-mail)
    achieved what, when, and where to check whether it was revoked (the status list of key
    ``number``, which signs it)."""
    module = certificate.enrolment.module
    with force_locale(certificate.language):
        criteria = _(
            "Completed every lesson of the e-learning module and, where the module has a "
            "final test, passed it."
        )
    credential = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": public_url("certificates.verify", code=certificate.code),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer_profile(),
        "validFrom": _timestamp(certificate.issued_at),
        "name": certificate.module_title,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": certificate.learner_name,
                }
            ],
            "achievement": {
                "id": public_url("courses.module", module_id=module.id),
                "type": ["Achievement"],
                "achievementType": "CertificateOfCompletion",
                "name": certificate.module_title,
                "description": module.summary or certificate.module_title,
                "criteria": {"narrative": criteria},
                "inLanguage": module.language,
            },
        },
    }
    if certificate.score_percent is not None:
        credential["credentialSubject"]["result"] = [
            {"type": ["Result"], "value": f"{certificate.score_percent}%"}
        ]
    if certificate.status_index is not None:
        status_list = status_list_url(number)
        credential["credentialStatus"] = {
            "id": f"{status_list}#{certificate.status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(certificate.status_index),
            "statusListCredential": status_list,
        }
    return credential


def signed_credential(certificate: Certificate) -> str:
    """The certificate's credential as a VC-JWT, signed with the newest key: the same text at
    every download while that key is the newest."""
    number = current_key_number()
    credential = credential_of(certificate, number)
    # The JWT claims that OB 3.0 binds to the credential's own members.
    claims = {
        **credential,
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "nbf": int(certificate.issued_at.replace(tzinfo=UTC).timestamp()),
    }
    return _sign(claims, number)


def enveloped(token: str) -> dict:
    """A VC-JWT as JSON: a VC 2.0 ``EnvelopedVerifiableCredential``."""
    return {
        "@context": VC_CONTEXT,
        "id": f"data:{MEDIA_TYPE},{token}",
        "type": "EnvelopedVerifiableCredential",
    }


# --- Revocation --------------------------------------------------------------------------------

_status_list_lock = threading.Lock()


def revoked_indexes() -> tuple[set[int], int]:
    """The status indexes of revoked certificates and the highest index given, in one query."""
    highest = select(func.max(Certificate.status_index)).scalar_subquery()
    rows = db.session.execute(
        select(Certificate.status_index, Certificate.revoked_at.is_not(None)).where(
            or_(Certificate.revoked_at.is_not(None), Certificate.status_index == highest),
            Certificate.status_index.is_not(None),
        )
    ).all()
    revoked = {index for index, is_revoked in rows if is_revoked}
    return revoked, max((index for index, _ in rows), default=0)


def encoded_list(revoked: set[int], size_bits: int) -> str:
    """A Bitstring Status List's ``encodedList``: bit i (from the left) set when index i is in
    ``revoked``, gzipped, base64url without padding, with the multibase prefix ``u``."""
    bits = bytearray(size_bits // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")


def signed_status_list(number: int) -> str:
    """The status list as a ``BitstringStatusListCredential`` signed with key ``number``; the
    same signed list is served again for a minute while no certificate is revoked."""
    revoked, highest = revoked_indexes()
    # Enough bits for every index given, in steps of the smallest size.
    size_bits = (highest // STATUS_LIST_MIN_BITS + 1) * STATUS_LIST_MIN_BITS
    url = status_list_url(number)
    state = (url, frozenset(revoked), size_bits)
    now = time.monotonic()
    with _status_list_lock:
        cached = current_app.extensions.setdefault("credentials_status_lists", {}).get(number)
        if cached and cached[0] == state and now - cached[1] < STATUS_LIST_CACHE_SECONDS:
            return cached[2]
    issued = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    claims = {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_url(),
        "validFrom": _timestamp(issued),
        "validUntil": _timestamp(issued + STATUS_LIST_VALID),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded_list(revoked, size_bits),
        },
        "iss": issuer_url(),
        "jti": url,
        "nbf": int(issued.replace(tzinfo=UTC).timestamp()),
    }
    token = _sign(claims, number)
    with _status_list_lock:
        current_app.extensions["credentials_status_lists"][number] = (state, now, token)
    return token


# --- Signing -----------------------------------------------------------------------------------


def _sign(claims: dict, number: int) -> str:
    """``claims`` signed with key ``number``, which the header's ``kid`` names."""
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": key_url(number)}
    payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode()
    with warnings.catch_warnings():
        # RFC 9864 deprecates "EdDSA" for the fully specified "Ed25519", which Open Badges
        # verifiers do not accept yet: they expect "EdDSA" over an Ed25519 key.
        warnings.filterwarnings("ignore", "EdDSA is deprecated", SecurityWarning)
        return jws.serialize_compact(header, payload, signing_key(number), algorithms=["EdDSA"])


def _timestamp(moment: datetime) -> str:
    """A UTC time (as the database keeps it, without a zone) in XML Schema's form."""
    return moment.replace(microsecond=0, tzinfo=None).isoformat() + "Z"
