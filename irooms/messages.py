"""Room chat messages: stored before they are sent out, numbered within their room.

The database is the source of truth. A message gets the room's next sequence number from one
UPDATE of the room's counter in the transaction that stores it, so numbers are unique and
without gaps; a retried send (same ``client_id``) returns the number it already has.
"""

import math

from flask import current_app
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from irooms.models import Membership, Message, Room
from learnplatform.extensions import db, limiter
from learnplatform.text import without_hidden

MAX_LENGTH = 4000
#: how many messages one page of catch-up or history holds at most
PAGE = 100


class ChatRefused(ValueError):
    """A message that cannot be posted; ``code`` says why, for the client to explain."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def clean_body(text) -> str:
    """The text as it is kept: bidi controls and other control characters removed (newlines and
    tabs stay), trimmed. Raises ChatRefused for an empty or too long message."""
    if not isinstance(text, str):
        raise ChatRefused("empty")
    kept = without_hidden(text, keep="\n\t").strip()
    if not kept:
        raise ChatRefused("empty")
    if len(kept) > MAX_LENGTH:
        raise ChatRefused("too_long")
    return kept


def post(
    room: Room, membership: Membership | None, author, client_id, text
) -> tuple[Message, bool]:
    """Store a message of ``author`` in ``room``: (the message, whether it is new).

    Refused (ChatRefused) when the author is muted, the chat is locked to hosts, the room is
    read-only, or the text is empty or too long. Commits.
    """
    from irooms import notices
    from irooms.access import is_read_only

    if not isinstance(client_id, str) or not 1 <= len(client_id) <= 64:
        raise ChatRefused("bad_request")
    if is_read_only(room):
        raise ChatRefused("read_only")
    is_host = author.is_administrator or (membership is not None and membership.role == "host")
    if membership is not None and membership.muted_at is not None:
        raise ChatRefused("muted")
    if room.chat_locked_at is not None and not is_host:
        raise ChatRefused("locked")
    body = clean_body(text)
    existing = _sent(room.id, author.id, client_id)
    if existing is not None:
        return existing, False
    seq = db.session.execute(
        update(Room)
        .where(Room.id == room.id)
        .values(chat_seq=Room.chat_seq + 1)
        .returning(Room.chat_seq)
    ).scalar_one()
    message = Message(room_id=room.id, seq=seq, author_id=author.id, client_id=client_id, body=body)
    db.session.add(message)
    try:
        db.session.flush()
        notices.chat_mentions(room, message, author)  # with the message, or not at all
        db.session.commit()
    except IntegrityError:
        # The same send, retried at the same moment, was stored first: this one is it.
        db.session.rollback()
        existing = _sent(room.id, author.id, client_id)
        if existing is None:
            raise
        return existing, False
    return message, True


def _sent(room_id: int, author_id: int, client_id: str) -> Message | None:
    return db.session.scalar(
        select(Message)
        .where(
            Message.room_id == room_id,
            Message.author_id == author_id,
            Message.client_id == client_id,
        )
        .options(joinedload(Message.author))
    )


def after(room_id: int, seq: int, limit: int = PAGE) -> list[Message]:
    """The room's messages numbered after ``seq``, oldest first: what a client missed."""
    return list(
        db.session.scalars(
            select(Message)
            .where(Message.room_id == room_id, Message.seq > seq)
            .order_by(Message.seq)
            .limit(limit)
            .options(joinedload(Message.author))
        )
    )


def before(room_id: int, seq: int | None, limit: int = PAGE) -> list[Message]:
    """Up to ``limit`` messages numbered before ``seq`` (the newest when None), oldest first:
    scrolling back, by number and never by offset."""
    query = select(Message).where(Message.room_id == room_id)
    if seq is not None:
        query = query.where(Message.seq < seq)
    newest = db.session.scalars(
        query.order_by(Message.seq.desc()).limit(limit).options(joinedload(Message.author))
    ).all()
    return list(reversed(newest))


def as_json(message: Message) -> dict:
    """A message as clients receive it; a removed one keeps its number, not its text."""
    removed = message.deleted_at is not None
    return {
        "room": message.room_id,
        "seq": message.seq,
        "author": {"id": message.author_id, "name": message.author.name if message.author else ""},
        "body": "" if removed else message.body,
        "at": message.created_at.isoformat(timespec="seconds") + "Z",
        "edited": message.edited_at is not None,
        "removed": removed,
    }


def rate_limited(user_id: int) -> bool:
    """Whether ``user_id`` has posted too fast: more than ``CHAT_BURST`` messages within
    ``CHAT_BURST / CHAT_RATE`` seconds (rounded up to whole seconds), ``CHAT_RATE`` a second on
    average.

    The count is a moving window kept where the platform's other rate limits are (Redis when
    ``REDIS_URL`` is set), so a person's connections to every process share it. While that store
    cannot be reached, each process counts on its own: the chat goes on.
    """
    config = current_app.config
    burst = config["CHAT_BURST"]
    window = RateLimitItemPerSecond(burst, max(1, math.ceil(burst / config["CHAT_RATE"])))
    key = (config["RATELIMIT_KEY_PREFIX"], "chat", str(user_id))
    shared, own = _strategies()
    try:
        return not shared.hit(window, *key)
    except shared.storage.base_exceptions:
        current_app.logger.warning("chat rate limit: shared store unreachable, counting here")
        return not own.hit(window, *key)


def _strategies() -> tuple[MovingWindowRateLimiter, MovingWindowRateLimiter]:
    """The moving windows in the limiter's store, and in this process's memory."""
    strategies = current_app.extensions.get("irooms.chat_rate")
    if strategies is None:
        strategies = current_app.extensions["irooms.chat_rate"] = (
            MovingWindowRateLimiter(limiter.storage),
            MovingWindowRateLimiter(MemoryStorage()),
        )
    return strategies
