"""Password policy (NIST SP 800-63B) and hashing with Argon2id, a memory-hard function."""

from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l

from learnplatform.serving import off_loop

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters

# Verifying against this hash when an account does not exist keeps the time of a login for an
# unknown address close to the time for a known one.
_DUMMY_HASH = _hasher.hash("not a password anyone has")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased."""
    text = resources.files("learnplatform").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why ``password`` may not be used, or ``None`` when it may.

    Length is counted in characters, so a passphrase in any script is welcome; there are no
    composition rules.
    """
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    maximum = current_app.config["PASSWORD_MAX_LENGTH"]
    if len(password) < minimum:
        return _l(
            "Use at least %(count)d characters. A phrase of several words is easy to remember.",
            count=minimum,
        )
    if len(password) > maximum:
        return _l("Use at most %(max)d characters.", max=maximum)
    lowered = password.lower()
    if lowered in common_passwords() or len(set(password)) == 1:
        return _l("This password is on a list of commonly used passwords. Choose another one.")
    for own in (email.lower(), email.lower().split("@")[0], name.lower()):
        if own and len(own) >= 4 and lowered == own:
            return _l("Do not use your name or e-mail address as your password.")
    return None


def hash_password(password: str) -> str:
    """Hash ``password`` with Argon2id; the whole password counts, there is no truncation."""
    return off_loop(_hasher.hash, password)  # about 50 ms of CPU: not on the event loop


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; as slow when there is no hash."""
    try:
        matches = off_loop(_hasher.verify, password_hash or _DUMMY_HASH, password)
        return matches and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than the current ones."""
    return _hasher.check_needs_rehash(password_hash)
