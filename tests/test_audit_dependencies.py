"""scripts/audit_dependencies.py: pip-audit in CI fails on a finding and only warns when the
vulnerability service could not be asked (unreachable, or a mirror that knows no package)."""

from __future__ import annotations

import importlib.util
import json
import stat
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("audit_dependencies", ROOT / "scripts" / "audit_dependencies.py")
audit = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("audit_dependencies", audit)  # its dataclasses look their module up
_spec.loader.exec_module(audit)

CLEAN = {
    "dependencies": [
        {"name": "flask", "version": "3.1.3", "vulns": []},
        {"name": "rq", "version": "2.12.0", "vulns": []},
    ]
}
VULNERABLE = {
    "dependencies": [
        {"name": "flask", "version": "3.1.3", "vulns": []},
        {
            "name": "werkzeug",
            "version": "3.0.0",
            "vulns": [{"id": "GHSA-xxxx-yyyy-zzzz", "fix_versions": ["3.0.6"], "description": "debugger RCE"}],
        },
    ]
}
ALL_SKIPPED = {
    "dependencies": [
        {"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be audited: flask (3.1.3)"},
        {"name": "rq", "skip_reason": "Dependency not found on PyPI and could not be audited: rq (2.12.0)"},
    ]
}
UNREACHABLE = (
    "Traceback (most recent call last):\n  ...\nrequests.exceptions.ConnectionError: HTTPSConnectionPool("
    "host='api.osv.dev', port=443): Max retries exceeded with url: /v1/query (Caused by NameResolutionError(...))\n"
)


def test_a_clean_report_passes():
    verdict = audit.judge(0, json.dumps(CLEAN), "No known vulnerabilities found")
    assert verdict.code == 0
    assert verdict.lines == ["pip-audit: no known vulnerabilities in 2 audited package(s)."]


def test_a_finding_fails_and_is_named_with_its_fix():
    verdict = audit.judge(1, json.dumps(VULNERABLE), "Found 1 known vulnerability in 1 package")
    assert verdict.code == 1
    assert "  werkzeug 3.0.0: GHSA-xxxx-yyyy-zzzz (fix: 3.0.6)" in verdict.lines


def test_nothing_looked_up_is_a_warning_not_a_pass_in_silence():
    verdict = audit.judge(0, json.dumps(ALL_SKIPPED), "No known vulnerabilities found")
    assert verdict.code == 0
    assert verdict.lines[0].startswith("WARNING:") and "NO dependency was audited" in verdict.lines[0]


def test_an_unreachable_service_is_a_warning():
    verdict = audit.judge(1, "", UNREACHABLE)
    assert verdict.code == 0
    assert "could not reach its vulnerability service" in verdict.lines[0]
    assert "Max retries exceeded" in verdict.lines[1]


def test_some_skipped_are_named():
    report = {"dependencies": CLEAN["dependencies"] + ALL_SKIPPED["dependencies"][:1]}
    verdict = audit.judge(0, json.dumps(report), "")
    assert verdict.code == 0
    assert verdict.lines[1] == "WARNING: 1 package(s) could not be audited:"


def test_any_other_failure_of_pip_audit_fails():
    verdict = audit.judge(1, "", "ERROR: Invalid requirement: 'flask=='")
    assert verdict.code == 1 and "Invalid requirement" in verdict.lines[1]


@pytest.mark.parametrize(
    ("stdout", "stderr", "exit_code", "code", "seen"),
    [
        (json.dumps(VULNERABLE), "", 1, 1, "GHSA-xxxx-yyyy-zzzz"),
        ("", UNREACHABLE, 1, 0, "WARNING"),
        (json.dumps(CLEAN), "", 0, 0, "no known vulnerabilities"),
    ],
)
def test_main_runs_pip_audit_and_exits_by_the_verdict(tmp_path, capsys, stdout, stderr, exit_code, code, seen):
    """A stand-in pip-audit (a script that prints what the real one would) checks the whole path."""
    (tmp_path / "out.json").write_text(stdout)
    (tmp_path / "err.txt").write_text(stderr)
    fake = tmp_path / "pip-audit"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import sys, pathlib\n"
        f"here = pathlib.Path({str(tmp_path)!r})\n"
        "assert sys.argv[1:3] == ['-r', 'reqs.txt'] and '-f' in sys.argv, sys.argv\n"
        "sys.stdout.write((here / 'out.json').read_text())\n"
        "sys.stderr.write((here / 'err.txt').read_text())\n"
        f"sys.exit({exit_code})\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    assert audit.main(["-r", "reqs.txt", "--pip-audit", str(fake)]) == code
    captured = capsys.readouterr()
    assert seen in captured.out + captured.err


def test_a_lock_file_is_audited_as_it_stands(tmp_path, capsys):
    """Hashed requirements (requirements.lock) go to pip-audit with --disable-pip: no resolving
    again in a scratch venv; a plain requirements file without it."""
    seen = tmp_path / "argv.json"
    fake = tmp_path / "pip-audit"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"open({str(seen)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
        f"print({json.dumps(json.dumps(CLEAN))})\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    plain = tmp_path / "requirements.txt"
    plain.write_text("flask==3.1.3\n")
    assert audit.main(["-r", str(plain), "--pip-audit", str(fake)]) == 0
    assert "--disable-pip" not in json.loads(seen.read_text())
    assert audit.main(["--pip-audit", str(fake)]) == 0  # the default: the project's runtime lock
    argv = json.loads(seen.read_text())
    assert argv[:2] == ["-r", str(ROOT / "requirements.lock")] and "--disable-pip" in argv


def test_main_without_pip_audit_fails(tmp_path, capsys):
    assert audit.main(["--pip-audit", str(tmp_path / "missing")]) == 1
    assert "pip-audit not found" in capsys.readouterr().err
