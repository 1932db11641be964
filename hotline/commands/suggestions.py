"""`flask --app hotline suggestions train|try|list`: the learned routing suggestions."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Category, Department
from hotline.services.dispatch import suggestions
from hotline.services.platform import queueing

suggestions_cli = AppGroup("suggestions", help="Learned routing suggestions: train the model, try it.")


@suggestions_cli.command("train")
@click.option("--force", is_flag=True, help="Train even when no ticket was accepted since the last version.")
@click.option("--enqueue", is_flag=True, help="Leave it to a worker instead of training in this process.")
def train_command(force: bool, enqueue: bool) -> None:
    """Train a new version on the accepted tickets, and print its held-out figures."""
    if enqueue:
        if not queueing.enqueue_training("cli", force):
            raise click.ClickException("not enqueued: no job queue is configured or Redis is down")
        click.echo("training enqueued: a worker will run it")
        return
    result = suggestions.train(trigger="cli", force=force)
    click.echo(result.message)
    if result.metrics:
        m = result.metrics
        confident = m.get("confident_accuracy")
        click.echo(
            f"held out {m['samples']}: top-1 {m['top1']:.3f}, top-3 {m['top3']:.3f} "
            f"(always the commonest department: {m['baseline']:.3f}); "
            f"confidence >= {m['threshold']}: {m['confident_share']:.0%} of tickets"
            + (f", {confident:.1%} of them right" if confident is not None else "")
        )
    elif result.trained:
        click.echo("too few tickets to hold some out: no accuracy figures for this version")
    if result.left_out:
        rare = ", ".join(f"{code} ({n})" for code, n in sorted(result.left_out.items()))
        click.echo(f"too few tickets to learn, never suggested: {rare}")


@suggestions_cli.command("try")
@click.argument("text")
@click.option("--category", "category_code", help="Category code of the ticket, as the operator would file it.")
@click.option("--limit", default=3, show_default=True, type=click.IntRange(1, 20))
def try_command(text: str, category_code: str | None, limit: int) -> None:
    """Which departments would the model suggest for TEXT?"""
    category_path = None
    if category_code:
        category = db.session.scalar(select(Category).where(Category.code == category_code))
        if category is None:
            raise click.UsageError(f"unknown category {category_code!r}")
        category_path = category.path_name
    version = suggestions.reload()
    if version is None:
        raise click.ClickException("no trained model: run `flask --app hotline suggestions train` first")
    found = suggestions.suggest(text, limit, category=category_path)
    click.echo(f"model version {version}")
    if not found:
        click.echo("no suggestion")
    names = dict(db.session.execute(select(Department.code, Department.name)).all())
    for suggestion in found:
        click.echo(f"{suggestion.confidence:6.1%}  {suggestion.department}  {names.get(suggestion.department, '')}")


@suggestions_cli.command("list")
def list_command() -> None:
    """The stored versions, newest first, with their held-out figures."""
    rows = suggestions.versions()
    if not rows:
        click.echo("no trained model yet")
    for row in rows:
        figures = (
            f"top-1 {row.metrics['top1']:.3f} top-3 {row.metrics['top3']:.3f}" if row.metrics else "no held-out figures"
        )
        state = "active" if row.active else "inactive"
        stored = f"{row.model_size / 1024:.0f} KiB" if row.model_size else "-"
        click.echo(
            f"v{row.version}  {row.trained_at:%Y-%m-%d %H:%M} UTC  {row.trigger:<8} {state:<8} "
            f"{row.sample_count} tickets, {len(row.classes)} departments, {figures}, {stored}"
        )
