"""Flask CLI commands: `flask --app hotline users create|token|tokens|revoke-token|set-role|set-password`,
`seed-demo`, `requeue`."""

from __future__ import annotations

from datetime import datetime

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from hotline.demo import demo
from hotline.extensions import db
from hotline.models import Role, User
from hotline.models.types import utcnow
from hotline.services.accounts import passwords, users
from hotline.services.dispatch import suggestions
from hotline.services.errors import ServiceError
from hotline.services.reporting import report_figures
from hotline.services.ticketing import recovery

users_cli = AppGroup("users", help="Manage users and their API tokens.")


@users_cli.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(Role.ALL))
@click.option("--department", "department_code", help="Department code (department staff only).")
@click.option(
    "--password",
    required=True,
    help=f"At least {passwords.MIN_LENGTH} characters, hard to guess, not the user name nor a common one.",
)
@click.option("--display-name", default="", help="Name shown on pages; defaults to NAME.")
def create_user_command(name: str, role: str, department_code: str | None, password: str, display_name: str) -> None:
    """Create a user NAME with a role."""
    try:
        user = users.create_user(name, role, password, department_code, display_name, via="cli")
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"created user {user.username} ({user.role})")


@users_cli.command("token")
@click.argument("name")
@click.option("--name", "token_name", default="", help="What holds the token (e.g. cti-east), shown in the list.")
@click.option(
    "--expires-days",
    type=click.IntRange(1, users.TOKEN_MAX_DAYS),
    default=None,
    help="The token stops working after N days; without it, when revoked.",
)
def token_command(name: str, token_name: str, expires_days: int | None) -> None:
    """Print a new API token for user NAME (alone on the last line)."""
    user = _user_named(name)
    try:
        token = users.issue_token(user, token_name, expires_days)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"new API token for {user.username}; it is shown only once:", err=True)
    click.echo(token)


@users_cli.command("tokens")
@click.argument("name")
def tokens_command(name: str) -> None:
    """List user NAME's API tokens: id, name, created, expires, last used, state (times in UTC)."""
    user = _user_named(name)
    tokens = users.tokens_of(user)
    if not tokens:
        click.echo(f"{user.username} has no API tokens")
        return
    now = utcnow()
    rows = [("ID", "NAME", "CREATED", "EXPIRES", "LAST USED", "STATE")]
    rows += [
        (
            str(token.id),
            token.name or "-",
            _when(token.created_at),
            _when(token.expires_at),
            _when(token.last_used_at),
            token.state(now),
        )
        for token in tokens
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@users_cli.command("revoke-token")
@click.argument("name")
@click.argument("token_id", metavar="ID", type=int, required=False)
@click.option("--all", "revoke_all", is_flag=True, help="Revoke every token of NAME.")
def revoke_token_command(name: str, token_id: int | None, revoke_all: bool) -> None:
    """Revoke API token ID of user NAME (see `users tokens NAME`), or all of them with --all."""
    user = _user_named(name)
    if revoke_all == (token_id is not None):
        raise click.UsageError("give a token ID or --all (not both)")
    if revoke_all:
        count = users.revoke_tokens(user)
        click.echo(f"revoked {count} API token(s) of {user.username}")
        return
    try:
        users.revoke_token(user, token_id)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"revoked API token {token_id} of {user.username}")


def _user_named(name: str) -> User:
    user = db.session.scalar(select(User).where(User.username == name))
    if user is None:
        raise click.ClickException(f"no user {name}")
    return user


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"


@users_cli.command("set-role")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(Role.ALL))
@click.option("--department", "department_code", help="Department code (department staff only).")
@click.option("--reason", required=True, help="Why: kept in the log of role changes.")
@click.option("--deactivate/--activate", "deactivate", default=None, help="Also deactivate (or reactivate) the user.")
@click.option("--unit-lead/--no-unit-lead", "unit_lead", default=None, help="Make the user their unit's lead (or not).")
def set_role_command(
    name: str, role: str, department_code: str | None, reason: str, deactivate: bool | None, unit_lead: bool | None
) -> None:
    """Give user NAME a role (and department); the change is logged with the reason."""
    user = _user_named(name)
    active = user.active if deactivate is None else not deactivate
    old_role = user.role
    try:
        change = users.change_role(None, user, role, department_code, active, reason, via="cli", unit_lead=unit_lead)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    if change is None:
        click.echo(f"{user.username} is already {user.role}; nothing changed")
    else:
        lead = " (unit lead)" if user.is_unit_lead else ""
        click.echo(f"{user.username}: {old_role} -> {user.role}{lead}" + ("" if user.active else " (deactivated)"))


@users_cli.command("set-password")
@click.argument("name")
@click.password_option(help=f"At least {passwords.MIN_LENGTH} characters, hard to guess; prompted for when not given.")
def set_password_command(name: str, password: str) -> None:
    """Set a new password for user NAME (under the password policy)."""
    user = _user_named(name)
    try:
        users.set_password(user, password)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"password changed for {user.username}")


@click.command("seed-demo")
@click.option(
    "--tickets", default=300, show_default=True, type=click.IntRange(0, 100_000), help="How many demo tickets."
)
@click.option("--if-empty", is_flag=True, help="Quietly do nothing when the database already has data.")
def seed_demo_command(tickets: int, if_empty: bool) -> None:
    """Load a demo city: departments, districts, categories, users of every role, tickets.

    Only into an empty database: it never adds a second city to existing data.
    """
    if if_empty and demo.existing_data():
        click.echo("database already has data; demo city not loaded")
        return
    try:
        summary = demo.seed_demo(ticket_count=tickets)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    click.echo(summary)
    built = report_figures.rebuild()  # the dashboard shows the demo's history at once
    click.echo(f"report figures built for {built.days} days")
    # The dispatcher's desk shows what its suggestions are for (推荐承办单位), not 暂无推荐.
    trained = suggestions.train(trigger="demo")
    click.echo(f"routing suggestions: {trained.message}")


@click.command("requeue")
def requeue_command() -> None:
    """Enqueue now every ticket still waiting to be routed and every message still waiting to be
    sent (what the periodic sweep does), and say how many."""
    result = recovery.requeue()
    tickets_waiting = f"{result.waiting} tickets are waiting to be routed"
    messages_waiting = f"{result.messages_waiting} messages are waiting to be sent"
    if not result.has_queue and (result.waiting or result.messages_waiting):
        waiting = " and ".join(
            text
            for count, text in ((result.waiting, tickets_waiting), (result.messages_waiting, messages_waiting))
            if count
        )
        raise click.ClickException(
            f"{waiting}, but none was enqueued: no job queue is configured (set REDIS_URL and run a worker)"
        )
    if result.error is not None:
        raise click.ClickException(f"{tickets_waiting}; {result.enqueued} enqueued, then Redis failed: {result.error}")
    if result.waiting == 0:
        click.echo("no tickets are waiting to be routed")
    else:
        click.echo(f"enqueued routing for {result.enqueued} waiting tickets")
    if result.messages_error is not None:
        raise click.ClickException(
            f"{messages_waiting}; {result.messages_enqueued} enqueued, then Redis failed: {result.messages_error}"
        )
    if result.messages_waiting == 0:
        click.echo("no messages are waiting to be sent")
    else:
        click.echo(f"enqueued sending for {result.messages_enqueued} waiting messages")


def register_commands(app: Flask) -> None:
    from hotline.commands.backup import backup_command, restore_command
    from hotline.commands.calendar import calendar_cli
    from hotline.commands.directory import directory_cli
    from hotline.commands.files import files_cli  # attachments' store (issue 18 item 5)
    from hotline.commands.geo import geo_cli  # geo (issue 18)
    from hotline.commands.hotspots import hotspots_cli
    from hotline.commands.importing import import_csv_command
    from hotline.commands.reports import reports_cli
    from hotline.commands.search import search_cli
    from hotline.commands.seed_load import seed_load_command
    from hotline.commands.sla import sla_cli
    from hotline.commands.suggestions import suggestions_cli

    app.cli.add_command(calendar_cli)
    app.cli.add_command(directory_cli)
    app.cli.add_command(files_cli)
    app.cli.add_command(geo_cli)  # geo (issue 18)
    app.cli.add_command(hotspots_cli)
    app.cli.add_command(reports_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(sla_cli)
    app.cli.add_command(suggestions_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(seed_load_command)
    app.cli.add_command(requeue_command)
    app.cli.add_command(import_csv_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
