"""Flask CLI commands: `flask --app hotline users create|token`, `seed-demo`, `requeue`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Role, User
from hotline.services import queueing, users
from hotline.services.errors import ServiceError

users_cli = AppGroup("users", help="Manage users and their API tokens.")


@users_cli.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(Role.ALL))
@click.option("--department", "department_code", help="Department code (department staff only).")
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--display-name", default="", help="Name shown on pages; defaults to NAME.")
def create_user_command(name: str, role: str, department_code: str | None, password: str, display_name: str) -> None:
    """Create a user NAME with a role."""
    try:
        user = users.create_user(name, role, password, department_code, display_name)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"created user {user.username} ({user.role})")


@users_cli.command("token")
@click.argument("name")
def token_command(name: str) -> None:
    """Print a new API token for user NAME (alone on the last line)."""
    user = db.session.scalar(select(User).where(User.username == name))
    if user is None:
        raise click.ClickException(f"no user {name}")
    token = users.issue_token(user)
    click.echo(f"new API token for {user.username}; it is shown only once:", err=True)
    click.echo(token)


@click.command("seed-demo")
@click.option(
    "--tickets", default=300, show_default=True, type=click.IntRange(0, 100_000), help="How many demo tickets."
)
@click.option("--if-empty", is_flag=True, help="Quietly do nothing when the database already has data.")
def seed_demo_command(tickets: int, if_empty: bool) -> None:
    """Load a demo city: departments, districts, categories, users of every role, tickets.

    Only into an empty database: it never adds a second city to existing data.
    """
    from hotline.services import demo

    if if_empty and demo.existing_data():
        click.echo("database already has data; demo city not loaded")
        return
    try:
        summary = demo.seed_demo(ticket_count=tickets)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    click.echo(summary)


@click.command("requeue")
def requeue_command() -> None:
    """Enqueue now every ticket still waiting to be routed (what the periodic sweep does)."""
    result = queueing.requeue()
    if result.waiting == 0:
        click.echo("no tickets are waiting to be routed")
    elif not result.has_queue:
        raise click.ClickException(
            f"{result.waiting} tickets are waiting to be routed, but none was enqueued: "
            "no job queue is configured (set REDIS_URL and run a worker)"
        )
    elif result.error is not None:
        raise click.ClickException(
            f"{result.waiting} tickets are waiting to be routed; {result.enqueued} enqueued, "
            f"then Redis failed: {result.error}"
        )
    else:
        click.echo(f"enqueued routing for {result.enqueued} waiting tickets")


def register_commands(app: Flask) -> None:
    from hotline.commands.calendar import calendar_cli
    from hotline.commands.sla import sla_cli

    app.cli.add_command(calendar_cli)
    app.cli.add_command(sla_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(requeue_command)
