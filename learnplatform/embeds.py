"""Sites lessons may embed from: the hosts an administrator lists, none by default (for closed
networks). An embed of a listed host stays in a lesson's HTML, shows in a sandboxed frame, and
its origin goes into that page's ``frame-src``; every other embed is removed."""

import re
from datetime import datetime
from urllib.parse import urlsplit

from flask import g, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from learnplatform.audit import record, utcnow
from learnplatform.extensions import db

#: a host name as browsers send it: lower-case labels of letters, digits and hyphens
_HOST = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_CACHE = "learnplatform.embeds.hosts"


class EmbedHost(db.Model):
    """A host lessons may embed pages from, such as ``www.youtube-nocookie.com``."""

    __tablename__ = "embed_hosts"

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(253), unique=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: UTC time it was added
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HostRefused(ValueError):
    """A host that cannot be allowed, with the reason to show."""


def allowed_hosts() -> frozenset[str]:
    """The listed hosts, read once per request."""
    if not has_app_context():
        return frozenset()
    if _CACHE not in g:
        setattr(g, _CACHE, frozenset(db.session.scalars(select(EmbedHost.host))))
    return getattr(g, _CACHE)


def origin_of(address: str, hosts: frozenset[str]) -> str | None:
    """``https://host`` when ``address`` is an https address, without credentials or port, of
    one of ``hosts``; otherwise None."""
    try:
        parts = urlsplit(address.strip())
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or parts.username or parts.password or port is not None:
        return None
    if host not in hosts or parts.netloc.lower() != host:
        return None
    return f"https://{host}"


def normalise_host(typed: str) -> str:
    """The host in ``typed`` (a host name or an address of it); ``HostRefused`` if it is none."""
    text = typed.strip().lower()
    if "://" in text:
        text = urlsplit(text).netloc
    text = text.rstrip(".")
    try:
        text = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise HostRefused(_l("%(host)s is not a host name.", host=typed[:100])) from None
    if not _HOST.match(text):
        raise HostRefused(_l("%(host)s is not a host name.", host=typed[:100]))
    return text


def add_host(typed: str, actor) -> EmbedHost:
    """List a host, audited; ``HostRefused`` when it is not a host name or already listed."""
    host = normalise_host(typed)
    try:
        with db.session.begin_nested():
            added = EmbedHost(host=host, added_by_id=actor.id)
            db.session.add(added)
    except IntegrityError:
        raise HostRefused(_l("%(host)s is already allowed.", host=host)) from None
    record("embed_host.added", actor=actor, host=host)
    g.pop(_CACHE, None)
    return added


def remove_host(listed: EmbedHost, actor) -> None:
    """Take a host off the list, audited: its embeds no longer show."""
    db.session.delete(listed)
    record("embed_host.removed", actor=actor, host=listed.host)
    g.pop(_CACHE, None)
