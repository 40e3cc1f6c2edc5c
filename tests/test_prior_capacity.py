"""benchmarks/prior_capacity.py: one deblur case per weight file and naive beside it, as a table."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_one_case_per_prior_gives_rows_and_a_table(tmp_path: Path):
    data = tmp_path / "data" / "set12"
    data.mkdir(parents=True)
    shutil.copy(ROOT / "resources" / "samples" / "house.png", data / "01.png")
    results = tmp_path / "rows.jsonl"
    weights = ROOT / "resources" / "weights" / "gs.pt"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "prior_capacity.py"), "--weights",
           f"a={weights}", "--jobs", "deblur", "naive", "--iters", "3", "--limit", "1",
           "--workers", "1", "--data", str(tmp_path / "data"), "--results", str(results)]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert sorted(r["kind"] for r in rows) == ["deblur", "naive"]
    deblur = next(r for r in rows if r["kind"] == "deblur")
    assert deblur["monotone"] and deblur["max_rise"] <= 1e-6
    assert deblur["best"] >= deblur["last"]
    assert "| a | deblur | 1 |" in run.stdout and "naive best" in run.stdout
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert "0 jobs to do" in again.stdout  # a rerun resumes: nothing is run twice
