"""Command-line tools: ``flask create-admin``, ``flask outbox``, ``flask demo-data``."""

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


@click.command("demo-data")
@with_appcontext
def demo_data():
    """Load the demo data set; running it again adds only what is missing."""
    from learnplatform.demo import load_demo_data

    created = load_demo_data()
    db.session.commit()
    summary = ", ".join(f"{count} {kind}" for kind, count in created.items())
    click.echo(f"Demo data loaded ({summary} added).")


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
    for command in (create_admin, outbox, demo_data, demo_accounts):
        app.cli.add_command(command)
