"""pip-audit for CI: fail on a known vulnerability, warn (and pass) when none could be looked up.

    .venv/bin/python scripts/audit_dependencies.py [-r requirements.lock]

pip-audit asks a vulnerability service (PyPI's JSON API by default) about every pinned
package and its dependencies. A machine that reaches PyPI through a mirror, or none at all,
gets "not found" for every package, or a connection error: that is not a clean bill of
health, and not a finding either. So:

- any vulnerability found: the findings are printed, exit 1;
- every package skipped, or the service unreachable: a WARNING saying that nothing was
  audited, exit 0 (the tests still count; the warning is in the log for a person to see);
- some packages skipped: the others were audited; the skipped ones are named, exit 0;
- pip-audit failing otherwise (a bad requirements file): its error, exit 1.

A lock file (every package pinned, with hashes: `make lock`) is audited as it stands, without
pip resolving it again in a scratch venv (`--disable-pip`): exactly what production installs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What a failed connection looks like in pip-audit's error output (requests, urllib3, socket).
UNREACHABLE_MARKERS = (
    "ConnectionError",
    "NameResolutionError",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Connection refused",
    "timed out",
    "ReadTimeout",
    "ConnectTimeout",
    "SSLError",
)


@dataclass
class Verdict:
    code: int  # the exit code: 0 pass (perhaps with a warning), 1 fail
    lines: list[str] = field(default_factory=list)


def judge(returncode: int, stdout: str, stderr: str) -> Verdict:
    """What pip-audit's run (`-f json`) means for CI."""
    try:
        report = json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        report = None
    if not isinstance(report, dict) or not isinstance(report.get("dependencies"), list):
        if any(marker in stderr for marker in UNREACHABLE_MARKERS):
            last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
            return Verdict(
                0,
                [
                    "WARNING: pip-audit could not reach its vulnerability service; "
                    "NO dependency was audited. Run it where the service is reachable.",
                    f"  ({last[:300]})",
                ],
            )
        return Verdict(1, ["pip-audit failed:", stderr.strip() or stdout.strip() or f"exit {returncode}"])
    dependencies = report["dependencies"]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = len(dependencies) - len(skipped)
    if vulnerable:
        lines = [f"pip-audit: known vulnerabilities in {len(vulnerable)} package(s):"]
        for dependency in vulnerable:
            for vuln in dependency["vulns"]:
                fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
                lines.append(f"  {dependency['name']} {dependency.get('version', '')}: {vuln.get('id')} (fix: {fixes})")
        return Verdict(1, lines)
    if dependencies and audited == 0:
        return Verdict(
            0,
            [
                f"WARNING: pip-audit could not look up any of the {len(dependencies)} packages "
                "(its vulnerability service is unreachable from here, or answers through a mirror "
                "that does not know them); NO dependency was audited.",
                f"  first: {skipped[0]['skip_reason']}",
            ],
        )
    lines = [f"pip-audit: no known vulnerabilities in {audited} audited package(s)."]
    if skipped:
        lines.append(f"WARNING: {len(skipped)} package(s) could not be audited:")
        lines.extend(f"  {d['name']}: {d['skip_reason']}" for d in skipped)
    return Verdict(0, lines)


def _hashed(requirements: Path) -> bool:
    """A lock file: every requirement pinned with its hashes (pip-audit can read it as is)."""
    try:
        return "--hash=" in requirements.read_text(encoding="utf-8")
    except OSError:
        return False  # pip-audit says what is wrong with the file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-r", "--requirement", default=str(ROOT / "requirements.lock"))
    parser.add_argument("--pip-audit", default=str(Path(sys.executable).with_name("pip-audit")))
    args = parser.parse_args(argv)
    command = [args.pip_audit, "-r", args.requirement, "-f", "json", "--progress-spinner", "off"]
    if _hashed(Path(args.requirement)):
        command.append("--disable-pip")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    except FileNotFoundError:
        print(f"pip-audit not found at {args.pip_audit}: install requirements-dev.txt", file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired:
        print("WARNING: pip-audit took over 15 minutes (service unreachable?); NO dependency was audited.")
        return 0
    verdict = judge(done.returncode, done.stdout, done.stderr)
    print("\n".join(verdict.lines), file=sys.stderr if verdict.code else sys.stdout)
    return verdict.code


if __name__ == "__main__":
    sys.exit(main())
