"""Writing statements: who did what to which activity, with what result, when.

A statement is a row of the outbox written in the producer's transaction (flushed, not
committed): it exists exactly when the event it tells of does. It is complete when written,
its ``id`` and ``timestamp`` included, so that sending it again later sends the same statement.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from flask import current_app

from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.xapi import vocabulary
from learnplatform.xapi.activities import home_page, language_of
from learnplatform.xapi.models import XapiStatement
from learnplatform.xapi.sending import send_statements

#: ``context.platform`` of every statement: the software the experience happened in
PLATFORM = "learnplatform"


def enabled() -> bool:
    """Whether statements are recorded at all (``LRS_URL`` is set): producers may skip the
    work of describing an event nobody will hear of."""
    return bool(current_app.config["LRS_URL"])


def record(
    user,
    verb: str,
    activity: dict,
    *,
    result: dict | None = None,
    context: dict | None = None,
    timestamp: datetime | None = None,
) -> XapiStatement | None:
    """Write the statement "``user`` ``verb`` ``activity``" into the outbox (flushed with the
    caller's transaction) and send it once that commits; ``None`` when no LRS is configured.

    ``verb`` is a name of ``vocabulary.verbs()``; ``activity`` comes from
    ``activities.activity``; ``result`` from ``result()``; ``context`` is merged into the
    statement's context, which always carries the platform and, when the activity is named in
    a known language, that language (its ``extensions`` may use the vocabulary's short names);
    ``timestamp`` is when it happened (now by default).
    """
    if not enabled():
        return None
    statement = _statement(user, verb, activity, result=result, context=context)
    return _write(statement, timestamp or utcnow())


def record_later(
    user, verb: str, activity: dict, *, result: dict | None = None, context: dict | None = None
) -> Callable[[], XapiStatement | None]:
    """For what is known in this request but happens after it (a download, counted once its
    last byte is sent): the statement is made now, with this request's addresses, and written
    by the function returned, in its caller's transaction, timestamped when it is called."""
    if not enabled():
        return lambda: None
    statement = _statement(user, verb, activity, result=result, context=context)
    return lambda: _write(statement, utcnow())


def _statement(user, verb: str, activity: dict, *, result, context) -> dict:
    statement = {
        "actor": actor(user),
        "verb": vocabulary.verb(verb),
        "object": activity,
        "context": {"platform": PLATFORM, **(context or {})},
    }
    if "extensions" in statement["context"]:
        statement["context"]["extensions"] = named_extensions(statement["context"]["extensions"])
    language = language_of(activity)
    if language:
        statement["context"].setdefault("language", language)
    if result:
        statement["result"] = result
    return statement


def _write(statement: dict, timestamp: datetime) -> XapiStatement:
    """The statement, given its id and time, as a row of the outbox; sent after the commit."""
    statement_id = str(uuid4())
    complete = {"id": statement_id, **statement, "timestamp": iso_timestamp(timestamp)}
    row = XapiStatement(statement_id=statement_id, payload=json.dumps(complete))
    db.session.add(row)
    db.session.flush()
    send_statements.schedule()
    return row


def actor(user) -> dict:
    """The person as statements name them: a pseudonymous account on the platform's home
    page (the default), or their e-mail address and name where ``XAPI_ACTOR=mbox``."""
    if current_app.config["XAPI_ACTOR"] == "mbox":
        return {"objectType": "Agent", "name": user.name, "mbox": f"mailto:{user.email}"}
    if user.xapi_id is None:  # made in this transaction and not flushed yet
        user.xapi_id = uuid4().hex
    return {"objectType": "Agent", "account": {"homePage": home_page(), "name": user.xapi_id}}


def result(
    *,
    raw: float | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    scaled: float | None = None,
    success: bool | None = None,
    completion: bool | None = None,
    duration: timedelta | float | None = None,
    extensions: dict | None = None,
) -> dict:
    """A statement's ``result``, with only what is given: a score (``scaled`` is worked out
    from ``raw`` between ``minimum`` and ``maximum`` when not given), ``success``,
    ``completion``, ``duration`` (a timedelta or seconds) and ``extensions`` (short names of
    ``vocabulary.extension`` or IRIs)."""
    outcome: dict = {}
    score = {
        key: value
        for key, value in (("raw", raw), ("min", minimum), ("max", maximum), ("scaled", scaled))
        if value is not None
    }
    if scaled is None and raw is not None and maximum is not None and maximum != (minimum or 0):
        score["scaled"] = round((raw - (minimum or 0)) / (maximum - (minimum or 0)), 4)
    if score:
        outcome["score"] = score
    if success is not None:
        outcome["success"] = success
    if completion is not None:
        outcome["completion"] = completion
    if duration is not None:
        outcome["duration"] = iso_duration(duration)
    if extensions:
        outcome["extensions"] = named_extensions(extensions)
    return outcome


def named_extensions(extensions: dict) -> dict:
    """Extensions keyed by IRI, short names of the vocabulary turned into theirs."""
    return {
        key if "://" in key else vocabulary.extension(key): value
        for key, value in extensions.items()
    }


def iso_timestamp(moment: datetime) -> str:
    """UTC, ISO 8601, to the millisecond: ``2026-12-03T07:31:30.778Z`` (naive means UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def iso_duration(duration: timedelta | float) -> str:
    """An ISO 8601 duration, as xAPI wants it: ``PT1H2M3.5S``."""
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else float(duration)
    seconds = max(round(seconds, 2), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, rest = divmod(rest, 60)
    text = "PT"
    if hours:
        text += f"{int(hours)}H"
    if minutes:
        text += f"{int(minutes)}M"
    if rest or text == "PT":
        text += f"{rest:.2f}".rstrip("0").rstrip(".") + "S"
    return text
