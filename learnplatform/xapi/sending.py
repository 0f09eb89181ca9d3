"""Sending the outbox to the LRS: in order, in batches, by one sender at a time.

After each commit that wrote statements a job sends what waits, and a job every minute sends
what an outage or a lost queue entry left behind. The sender first takes a lease in the
database (one row, ``XapiSender``), so that two workers never send at once, which could
reorder statements or send one batch twice; a sender that dies leaves the lease to expire.

Statements leave oldest first, ``BATCH`` at a time (``POST <LRS_URL>statements``, a JSON
array). What the LRS answers decides each statement's fate:

* 2xx: all sent. (Ralph answers 204 when it has every one of them already, the same statement
  under the same id, and 200 with the new ids for the others: sending again is harmless.)
* 409 Conflict, or 400/413/422 (Ralph says 422 for a statement it cannot read): the batch is
  sent again one statement at a time, in order, to learn which one. Alone, a 409 means the LRS
  holds a statement with this id already: it is taken as sent (what the LRS added to the copy
  it kept, such as a timestamp, may make it "differ"). A 400, 413 or 422 alone means the LRS
  will never take it: it is refused for good, logged, and left in the outbox with the answer
  (``flask xapi`` lists it); the statements after it go on.
* Anything else (the LRS down, a timeout, 5xx, 401, 429...): the first waiting statement is
  tried again 1, 2, 4... minutes later (at most ``LONGEST_WAIT``), and nothing behind it leaves
  before it does. Nothing is given up: statements wait as long as the LRS is away.

A sender that dies between the LRS's answer and its own commit sends the same statements
again at the next run; the LRS keeps each id once.
"""

import base64
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import uuid4

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from learnplatform import jobs
from learnplatform.audit import utcnow
from learnplatform.extensions import db
from learnplatform.xapi.models import XapiSender, XapiStatement

log = logging.getLogger(__name__)

#: statements in one request to the LRS
BATCH = 100
#: the longest wait between two tries while the LRS is away
LONGEST_WAIT = timedelta(hours=1)
#: answers that mean "this statement will never be taken", when it is sent alone
REFUSED = {400, 413, 422}
#: the one row of ``XapiSender``
LEASE_ID = 1


@jobs.job(retries=0)
def send_statements() -> None:
    """Send what waits (queued after a commit that recorded statements)."""
    send_due()


@jobs.periodic(jobs.every_minute)
def send_waiting(now: datetime | None = None) -> int:
    """Send what an outage or a lost job left waiting; how many statements the LRS took."""
    return send_due(now)


def send_due(now: datetime | None = None) -> int:
    """Send the waiting statements, oldest first, while the LRS takes them; nothing if another
    sender is at it, or if the first in line waits for its next try. How many were sent."""
    config = current_app.config
    if not config["LRS_URL"]:
        return 0
    now = now or utcnow()
    lease = _Lease(hold=timedelta(seconds=max(120, 3 * config["LRS_TIMEOUT"])))
    if not lease.take():
        return 0
    sent = 0
    try:
        while True:
            batch = db.session.execute(
                select(
                    XapiStatement.id,
                    XapiStatement.payload,
                    XapiStatement.next_attempt_at,
                )
                .where(XapiStatement.sent_at.is_(None), XapiStatement.next_attempt_at.is_not(None))
                .order_by(XapiStatement.id)
                .limit(BATCH)
            ).all()
            db.session.commit()  # no transaction stays open while the LRS answers
            if not batch or batch[0].next_attempt_at > now or not lease.renew():
                break
            taken, complete = _deliver(batch, now, lease)
            sent += taken
            if not complete:
                break
    finally:
        lease.release()
    return sent


@dataclass
class _Answer:
    """What the LRS said to one request: its status (``None``: it could not be reached)."""

    status: int | None
    text: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _deliver(batch: list, now: datetime, lease: "_Lease") -> tuple[int, bool]:
    """Send one batch; how many the LRS took, and whether to go on with the next batch."""
    answer = _post([row.payload for row in batch])
    if len(batch) > 1 and answer.status in REFUSED | {409}:
        # Which one? Each alone, in order, up to the first the LRS does not take as it is.
        for position, row in enumerate(batch):
            if position and not lease.renew():
                return position, False
            answer = _post([row.payload])
            if not answer.ok:
                taken, go_on = _settle(row.id, answer, now)
                return position + taken, go_on
            _mark_sent([row.id])
        return len(batch), True
    if answer.ok:
        _mark_sent([row.id for row in batch])
        return len(batch), True
    return _settle(batch[0].id, answer, now)


def _settle(statement_id: int, answer: "_Answer", now: datetime) -> tuple[int, bool]:
    """Decide the fate of one statement the LRS did not take as it is: (sent, go on)."""
    if answer.status == 409:
        _mark_sent([statement_id], note=f"{answer.status}: {answer.text}")
        log.warning(
            "xAPI statement %s: the LRS has one with its id already: %s",
            statement_id,
            answer.text,
        )
        return 1, True
    if answer.status in REFUSED:
        _refused(statement_id, answer)
        return 0, True
    _failed(statement_id, now, answer)
    return 0, False


def _post(payloads: list[str]) -> _Answer:
    """POST statements (JSON texts, sent as written) to the LRS; never raises."""
    config = current_app.config
    base = config["LRS_URL"] if config["LRS_URL"].endswith("/") else config["LRS_URL"] + "/"
    body = ("[" + ",".join(payloads) + "]").encode()
    request = urllib.request.Request(  # noqa: S310 - LRS_URL is checked to be http(s) at start
        base + "statements",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Experience-API-Version": "1.0.3",
            **_authorization(config),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=config["LRS_TIMEOUT"]) as response:  # noqa: S310
            return _Answer(response.status)
    except urllib.error.HTTPError as error:
        with error:
            text = error.read(400).decode("utf-8", "replace")
        return _Answer(error.code, " ".join(text.split()))
    except (OSError, ValueError) as error:  # refused, unreachable, timed out, a bad URL
        return _Answer(None, f"{type(error).__name__}: {error}")


def _authorization(config) -> dict:
    if not config["LRS_KEY"]:
        return {}
    pair = f"{config['LRS_KEY']}:{config['LRS_SECRET']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}


def _mark_sent(ids: list[int], *, note: str | None = None) -> None:
    values = {"sent_at": utcnow(), "next_attempt_at": None}
    if note is not None:
        values["last_error"] = note[:500]
    db.session.execute(
        update(XapiStatement)
        .where(XapiStatement.id.in_(ids), XapiStatement.sent_at.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()  # at once: a crash after it does not send them again


def _refused(statement_id: int, answer: _Answer) -> None:
    """The LRS will never take this statement: keep it, with the answer, out of the line."""
    error = f"{answer.status}: {answer.text}"[:500]
    db.session.execute(
        update(XapiStatement)
        .where(XapiStatement.id == statement_id)
        .values(next_attempt_at=None, last_error=error, attempts=XapiStatement.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    log.error("xAPI statement %s refused by the LRS, not sent: %s", statement_id, error)


def _failed(statement_id: int, now: datetime, answer: _Answer) -> None:
    """The first in line could not be sent: it, and all behind it, wait for its next try."""
    statement = db.session.get(XapiStatement, statement_id)
    statement.attempts += 1
    wait = min(timedelta(minutes=2 ** min(statement.attempts - 1, 20)), LONGEST_WAIT)
    statement.next_attempt_at = now + wait
    status = answer.status if answer.status is not None else "no answer"
    statement.last_error = f"{status}: {answer.text}"[:500]
    db.session.commit()
    log.warning(
        "xAPI statements wait: the LRS did not take statement %s (try %s): %s",
        statement_id,
        statement.attempts,
        statement.last_error,
    )


class _Lease:
    """This sender's hold on the outbox, in the one row of ``XapiSender``."""

    def __init__(self, hold: timedelta):
        self.hold = hold
        self.holder = uuid4().hex

    def take(self) -> bool:
        """Hold the outbox if nobody does (or the holder's time ran out)."""
        now = utcnow()
        taken = db.session.execute(
            update(XapiSender)
            .where(
                XapiSender.id == LEASE_ID,
                or_(XapiSender.held_until.is_(None), XapiSender.held_until < now),
            )
            .values(holder=self.holder, held_until=now + self.hold)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not taken and db.session.get(XapiSender, LEASE_ID) is None:
            try:  # the very first sender writes the row; of two at once, one does
                with db.session.begin_nested():
                    db.session.add(
                        XapiSender(id=LEASE_ID, holder=self.holder, held_until=now + self.hold)
                    )
                taken = 1
            except IntegrityError:
                taken = 0
        db.session.commit()
        return bool(taken)

    def renew(self) -> bool:
        """Hold on for another ``hold`` before talking to the LRS; False if it was lost."""
        kept = db.session.execute(
            update(XapiSender)
            .where(XapiSender.id == LEASE_ID, XapiSender.holder == self.holder)
            .values(held_until=utcnow() + self.hold)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        return bool(kept)

    def release(self) -> None:
        db.session.rollback()  # whatever an error left half done
        db.session.execute(
            update(XapiSender)
            .where(XapiSender.id == LEASE_ID, XapiSender.holder == self.holder)
            .values(holder=None, held_until=None)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
