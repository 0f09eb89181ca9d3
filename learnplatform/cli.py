"""Command-line tools: ``flask create-admin``, ``flask outbox``, ``flask demo-data``."""

import sys
import time

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select

from learnplatform.accounts import services
from learnplatform.extensions import db
from learnplatform.mail import OutboxMessage
from learnplatform.passwords import password_problem


@click.command("create-admin")
@with_appcontext
@click.option("--email", prompt=True, help="E-mail address of the administrator.")
@click.option("--name", prompt=True, help="Name shown on the platform.")
@click.option("--country", default="AT", show_default=True, help="ISO 3166 alpha-2 country code.")
@click.password_option(help="Password (asked for when not given).")
def create_admin(email, name, country, password):
    """Create an administrator account, or make an existing account administrator."""
    problem = password_problem(password, email=email, name=name)
    if problem:
        raise click.BadParameter(str(problem), param_hint="password")
    user = services.create_administrator(
        email=email, name=name, password=password, country=country.upper()
    )
    db.session.commit()
    click.echo(f"{user.email} is an administrator.")


@click.command("outbox")
@with_appcontext
@click.option("--to", "recipient", help="Only messages to this address.")
@click.option("--limit", default=20, show_default=True, help="How many of the newest to print.")
def outbox(recipient, limit):
    """Print the e-mails kept in the outbox because no SMTP server is configured."""
    query = select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
    if recipient:
        query = query.where(OutboxMessage.recipient == services.normalise_email(recipient))
    messages = db.session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit)).all()
    if not messages:
        click.echo("The outbox is empty.")
    for message in reversed(messages):
        click.echo(f"--- {message.created_at:%Y-%m-%d %H:%M:%S} UTC")
        click.echo(f"To: {message.recipient}")
        click.echo(f"Subject: {message.subject}")
        click.echo()
        click.echo(message.body)


@click.command("worker")
@with_appcontext
@click.option("--workers", type=click.IntRange(min=1), help="Jobs run at once (JOBS_WORKERS).")
@click.option("--no-periodic", is_flag=True, help="Leave the periodic jobs to another worker.")
def worker(workers, no_periodic):
    """Run the background jobs (e-mail, reminders, digests) until stopped."""
    from flask import current_app

    from learnplatform import jobs

    if current_app.config["JOBS_IMMEDIATE"]:
        raise click.UsageError("JOBS_IMMEDIATE is set: jobs run where they are queued.")
    jobs.run_worker(workers or current_app.config["JOBS_WORKERS"], periodic=not no_periodic)


@click.command("demo-data")
@with_appcontext
@click.option(
    "--users",
    type=click.IntRange(min=1),
    help="Instead of the demo data set, add this many made-up practitioners for the "
    "statistics benchmarks [1000 when only --enrolments is given].",
)
@click.option(
    "--enrolments",
    type=click.IntRange(min=0),
    help="With --users: how many enrolments the new practitioners have [10000].",
)
@click.option("--seed", type=int, help="With --users: the same seed gives the same data [1].")
@click.option(
    "--batch", type=click.IntRange(min=100), help="With --users: rows written at a time [10000]."
)
def demo_data(users, enrolments, seed, batch):
    """Load the demo data set; running it again adds only what is missing.

    With --users or --enrolments, add made-up practitioners from the countries the platform
    serves and their enrolments (about three in five completed) over the past three years,
    publishing more modules when there are too few. Every run adds new people, numbered after
    the highest u<number>@bulk.example.org address, all with the password printed at the end.
    """
    if users is not None or enrolments is not None:
        _bulk_data(
            users if users is not None else 1000,
            enrolments if enrolments is not None else 10_000,
            seed if seed is not None else 1,
            batch or 10_000,
        )
        return
    if seed is not None or batch is not None:
        raise click.UsageError("--seed and --batch go with --users or --enrolments.")
    from learnplatform.demo import load_demo_data

    created = load_demo_data()
    db.session.commit()
    summary = ", ".join(f"{count} {kind}" for kind, count in created.items())
    click.echo(f"Demo data loaded ({summary} added).")


def _bulk_data(users: int, enrolments: int, seed: int, batch: int) -> None:
    """``flask demo-data --users N --enrolments M``: generate, show progress, commit."""
    from learnplatform import bulkdata

    started = time.monotonic()
    try:
        bulkdata.check(users, enrolments)
        with click.progressbar(
            length=users + enrolments, label="Adding people and enrolments", file=sys.stderr
        ) as bar:
            summary = bulkdata.generate(
                users, enrolments, seed=seed, batch=batch, progress=bar.update
            )
    except bulkdata.BulkDataError as error:
        db.session.rollback()
        raise click.UsageError(str(error)) from None
    db.session.commit()
    share = summary.completed / summary.enrolments if summary.enrolments else 0
    click.echo(
        f"Added {summary.users} practitioners ({summary.first_email} to {summary.last_email}, "
        f'password "{bulkdata.PASSWORD}"), {summary.enrolments} enrolments ({share:.0%} '
        f"completed) and {summary.modules} modules in {time.monotonic() - started:.1f} s."
    )


@click.command("demo-accounts")
@with_appcontext
@click.option(
    "--url", default="http://127.0.0.1:5000", show_default=True, help="Where it is served."
)
def demo_accounts(url):
    """Print the demo accounts and where to log in."""
    from learnplatform.demo import DEMO_ACCOUNTS

    click.echo(f"\nThe platform is at {url}. Demo accounts:")
    for account in DEMO_ACCOUNTS:
        click.echo(f"  {account.role:<14} {account.email:<32} password: {account.password}")
    click.echo("E-mails (confirmations, password resets) are printed by: make outbox\n")


def init_app(app: Flask) -> None:
    """Register the commands on ``app``."""
    from courses.credentials import credentials_key_command
    from learnplatform.xapi.cli import xapi  # its jobs register with it, the worker's too

    for command in (
        create_admin,
        outbox,
        worker,
        demo_data,
        demo_accounts,
        xapi,
        credentials_key_command,
    ):
        app.cli.add_command(command)
