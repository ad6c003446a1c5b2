#!/usr/bin/env python3
"""The two README commands, with nothing but Python 3.11 on the machine.

    python3 tasks.py serve   # make .venv, install, migrate SQLite, load demo data, serve the API
    python3 tasks.py test    # make .venv, install with the dev extra, run the whole test suite

Standard library only: this file runs before any dependency is installed. It re-installs the project
into .venv only when pyproject.toml changed. `test` fails when pytest fails *or* collects no tests
(pytest's exit code 5), so an empty run can never pass.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".budget-ledger-installed"
PYTEST_NO_TESTS = 5


def say(message: str) -> None:
    print(f"[tasks] {message}", file=sys.stderr, flush=True)


def find_python() -> str:
    """This interpreter if it is 3.11 or newer, else a python3.11+ on PATH."""
    if sys.version_info >= (3, 11):  # noqa: UP036 - this file runs before we know the version
        return sys.executable
    for name in ("python3.13", "python3.12", "python3.11"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("budget_ledger needs Python 3.11 or newer; none was found on PATH")


def ensure_venv(extra: str) -> None:
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extra.encode()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        say(f"creating {VENV}")
        subprocess.run([find_python(), "-m", "venv", str(VENV)], check=True)
    say("installing budget_ledger and its dependencies (first run takes a minute)")
    quiet = [] if os.environ.get("CI") else ["--quiet"]
    subprocess.run([str(PYTHON), "-m", "pip", "install", *quiet, "--upgrade", "pip"], check=True)
    target = f".[{extra}]" if extra else "."
    subprocess.run([str(PYTHON), "-m", "pip", "install", *quiet, "-e", target], check=True, cwd=ROOT)
    STAMP.write_text(wanted)


def serve(args: list[str]) -> int:
    ensure_venv("dev")
    return subprocess.call([str(BIN / "budget-ledger"), "serve", *args], cwd=ROOT)


def test(args: list[str]) -> int:
    ensure_venv("dev")
    code = subprocess.call([str(PYTHON), "-m", "pytest", *args], cwd=ROOT)
    if code == PYTEST_NO_TESTS:
        say("pytest collected no tests: that is a failure, not a pass")
        return 1
    return code


def main() -> int:
    commands = {"serve": serve, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
