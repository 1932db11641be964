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
@click.option("--tickets", default=300, show_default=True, help="How many demo tickets to create.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
def seed_demo_command(tickets: int, if_empty: bool) -> None:
    """Load a demo city: departments, districts, categories, users of every role, tickets."""
    from hotline.services import demo

    if if_empty and db.session.scalar(select(User.id).limit(1)) is not None:
        click.echo("database already has data; demo city not loaded")
        return
    summary = demo.seed_demo(ticket_count=tickets)
    click.echo(summary)


@click.command("requeue")
def requeue_command() -> None:
    """Enqueue now every ticket still waiting to be routed."""
    count = queueing.requeue_waiting()
    click.echo(f"re-enqueued {count} tickets for routing")


def register_commands(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(requeue_command)
