"""The benchmark scripts still run and their correctness checks still hold, at a tiny size.

The figures in the README come from `bench/`; a script that no longer runs against today's services
would leave those figures unrepeatable. Nothing here times anything: each script is run small, on
SQLite, and must end with its own checks passed and exit status 0.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"

SMALL = {
    "post_entries.py": ["--entries", "400", "--single", "40", "--batch", "200", "--households", "20"],
    "monthly_run.py": ["--households", "60"],
    "import_camt.py": ["--households", "60", "--entries", "300"],
    "api_load.py": ["--households", "30", "--scan-households", "5", "--concurrency", "4", "--duration", "0.5",
                    "--warmup", "0.2", "--workers", "1"],
}


@pytest.mark.parametrize("script", sorted(SMALL))
def test_the_benchmark_runs_small_and_its_checks_pass(script, tmp_path):
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *SMALL[script], "--no-postgres", "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "checks passed" in result.stdout, result.stdout[-3000:]
    assert "FAIL" not in result.stdout


def test_the_monthly_runs_repeats_time_the_same_run_again_and_print_the_medians(tmp_path):
    result = subprocess.run(
        [sys.executable, str(BENCH / "monthly_run.py"), "--households", "30", "--repeat", "2", "--no-postgres",
         "--workdir", str(tmp_path), "--planning-workers", "0"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "TIMED RUN again (2)" in result.stdout and "floor again (2)" in result.stdout
    assert "sqlite: 2 timed runs: " in result.stdout and "median" in result.stdout
