"""``flask xapi``: what waits for the LRS, and what it refused, for the operator."""

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from learnplatform.extensions import db
from learnplatform.xapi import XapiStatement


@click.command("xapi")
@with_appcontext
@click.option("--limit", default=20, show_default=True, help="How many refused ones to list.")
def xapi(limit):
    """Say how many xAPI statements wait for the LRS, why the first waits, and list those the
    LRS refused as invalid (they are not sent again)."""
    waiting = XapiStatement.sent_at.is_(None) & XapiStatement.next_attempt_at.is_not(None)
    refused = XapiStatement.sent_at.is_(None) & XapiStatement.next_attempt_at.is_(None)
    count = db.session.scalar(select(func.count()).where(waiting))
    click.echo(f"Waiting: {count}")
    first = db.session.scalars(
        select(XapiStatement).where(waiting).order_by(XapiStatement.id).limit(1)
    ).first()
    if first is not None and first.attempts:
        click.echo(
            f"The first ({first.id}) failed {first.attempts} times, next try "
            f"{first.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC: {first.last_error}"
        )
    rows = db.session.scalars(
        select(XapiStatement).where(refused).order_by(XapiStatement.id.desc()).limit(limit)
    ).all()
    click.echo(f"Refused by the LRS: {db.session.scalar(select(func.count()).where(refused))}")
    for row in reversed(rows):
        click.echo(f"--- {row.id} {row.statement_id} {row.created_at:%Y-%m-%d %H:%M:%S} UTC")
        click.echo(row.last_error or "")
        click.echo(row.payload)
