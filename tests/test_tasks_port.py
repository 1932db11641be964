"""Jobs live in `hotline.tasks`, which services never import: they enqueue by dotted path
through one port (`services.platform.queueing`), and the periodic jobs are declared in one table."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from rq.utils import import_attribute

from hotline.services.platform import queueing
from hotline.tasks import schedule

ROOT = Path(__file__).resolve().parent.parent

PORT = [queueing.ROUTE_TICKET, queueing.ROUTE_BATCH, queueing.DRAIN_INTAKE]
PORT += [queueing.SEND_MESSAGE, queueing.SEND_MESSAGES, queueing.TRAIN_SUGGESTIONS]
PORT += [queueing.KEEP_RECORDING, queueing.KEEP_MEDIA]  # attachments (issue 18 item 5)


@pytest.mark.parametrize("path", PORT + [entry.func for entry in schedule.PERIODIC])
def test_every_job_named_by_the_port_or_the_table_is_a_task(path: str) -> None:
    assert path.startswith("hotline.tasks.")
    assert callable(import_attribute(path))  # how a worker finds it


def test_the_app_and_every_service_load_without_the_tasks() -> None:
    """Importing the app, every services module, the web and API views, and creating the app
    imports nothing of `hotline.tasks`: no service can reach a job but through the port."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import hotline, hotline.services\n"
        "from config import TestingConfig\n"
        "hotline.create_app(TestingConfig())\n"
        "for package in ('hotline.services', 'hotline.web', 'hotline.api', 'hotline.commands'):\n"
        "    module = importlib.import_module(package)\n"
        "    for info in pkgutil.walk_packages(module.__path__, package + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "print(sorted(name for name in sys.modules if name.startswith('hotline.tasks')))\n"
    )
    assert _python(code) == "[]"


CHECKED = [
    "hotline/services/platform/queueing.py",
    "hotline/services/ticketing/recovery.py",
    "hotline/services/ticketing/intake.py",
]
CHECKED += [
    "hotline/services/platform/health.py",
    "workers/worker.py",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "hotline" / "tasks").glob("*.py")),
]


@pytest.mark.parametrize("path", CHECKED)
def test_no_import_inside_a_function(path: str) -> None:
    """Imports at the top, where a reader sees what a module needs (a function-level import
    used to dodge the loop jobs -> services -> jobs)."""
    tree = ast.parse((ROOT / path).read_text())
    hidden = [
        f"{path}:{node.lineno}"
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    assert hidden == []


def test_the_port_stands_alone() -> None:
    """The port imports no domain service (the sweep's re-enqueueing, which reads tickets and
    the outbox, is `services.ticketing.recovery`), so no import loop runs through it."""
    # What the package itself loads for every app (the session key's name, for the security
    # headers) is not the port's doing: count only what importing the port adds (modules, not
    # the packages they sit in, so that the count holds whatever the layout).
    code = (
        "import sys\n"
        "import hotline\n"
        "before = set(sys.modules)\n"
        "import hotline.services.platform.queueing\n"
        "print(sorted(n for n in set(sys.modules) - before\n"
        "             if n.startswith('hotline.services.') and n != 'hotline.services.platform.queueing'\n"
        "             and not hasattr(sys.modules[n], '__path__')))\n"  # modules, not their packages
    )
    assert _python(code) == "['hotline.services.platform.redis_guard']"


def _python(code: str) -> str:
    """What `code` prints, run by a fresh interpreter (nothing imported yet)."""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()
