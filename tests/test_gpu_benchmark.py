"""benchmarks/gpu.py: a full table on the CPU, its JSON, and the CUDA-only paths kept crash-free."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu.py"


def _load():
    spec = importlib.util.spec_from_file_location("benchmark_gpu", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gpu = _load()

CELL_FIELDS = {
    "size",
    "config",
    "status",
    "ms_per_iter",
    "wall_ms_per_iter",
    "iters",
    "warmup",
    "peak_bytes",
    "growth_bytes",
    "estimate_bytes",
    "max_rise",
    "rises",
}


@pytest.mark.slow  # 5-9 s alone, over 10 s on a busy machine
def test_the_cpu_run_prints_a_row_per_size_and_config_and_writes_the_json(tmp_path):
    out = tmp_path / "gpu.json"
    argv = [sys.executable, str(SCRIPT), "--device", "cpu", "--sizes", "64", "128"]
    argv += ["--iters", "3", "--warmup", "1", "--json", str(out)]
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [
        line for line in proc.stdout.splitlines() if line.startswith("| ") and "---" not in line
    ]
    head, rows = rows[0], rows[1:]
    assert "ms/iter" in head and "Ψ max rise" in head and "estimate MiB" in head
    cells = {(int(r.split("|")[1]), r.split("|")[2].strip()) for r in rows}
    assert cells == {(s, c) for s in (64, 128) for c in gpu.CONFIGS}
    assert "torch settings at start" in proc.stdout and "cudnn.allow_tf32" in proc.stdout
    data = json.loads(out.read_text())
    assert data["header"]["device"] == "cpu" and "settings_at_start" in data["header"]
    assert "settings_at_end" in data["header"]
    assert len(data["cells"]) == 2 * len(gpu.CONFIGS)
    for cell in data["cells"]:
        assert CELL_FIELDS <= set(cell), cell
        assert cell["status"] == "ok", cell
        assert cell["iters"] == 3 and cell["ms_per_iter"] > 0
        assert cell["peak_bytes"] is None  # no device peak on the CPU
        assert cell["estimate_bytes"] > 0
        assert isinstance(cell["max_rise"], float) and isinstance(cell["rises"], int)
    monotone = [c for c in data["cells"] if c["variant"] == "pg"]
    assert all(c["max_rise"] < 1e-6 for c in monotone)


def test_the_largest_relative_rise():
    assert gpu.max_relative_rise([4.0, 2.0, 1.0]) == (-0.5, 0)
    rise, count = gpu.max_relative_rise([4.0, 2.0, 2.2, 1.0])
    assert rise == pytest.approx(0.1) and count == 1
    assert math.isnan(gpu.max_relative_rise([1.0])[0])
    assert gpu.max_relative_rise([1.0, math.inf])[0] == math.inf


def test_settings_and_device_description_never_raise_even_for_cuda_here():
    settings = gpu.torch_settings()
    assert "cudnn.allow_tf32" in settings and "float32_matmul_precision" in settings
    info = gpu.device_description(torch.device("cuda", 0))  # no GPU here: reported, not raised
    assert info["device"] == "cuda:0" and "gpu" in info


def _args(**changes):
    base = dict(warmup=1, iters=3, cell_seconds=None, traceback=False)
    return SimpleNamespace(**{**base, **changes})


def test_a_cell_that_fails_or_does_not_fit_is_reported_and_the_next_one_runs(monkeypatch):
    import core.memory

    image = torch.rand(1, 1, 48, 48, generator=torch.Generator().manual_seed(0))
    cpu = torch.device("cpu")
    monkeypatch.setattr(core.memory, "available_bytes", lambda: 1000)
    skipped = gpu.run_cell("deblur-pg-wavelet", 48, image, cpu, _args(), None)
    assert skipped["status"] == "skipped" and "does not fit" in skipped["reason"]
    monkeypatch.undo()

    def broken(*_args, **_kwargs):
        raise RuntimeError("CUDA out of memory (simulated)")

    monkeypatch.setattr(gpu, "build", broken)
    failed = gpu.run_cell("deblur-pg-wavelet", 48, image, cpu, _args(), None)
    assert failed["status"] == "error" and "out of memory" in failed["reason"]
    monkeypatch.undo()
    ok = gpu.run_cell("deblur-pg-wavelet", 48, image, cpu, _args(), None)
    assert ok["status"] == "ok" and ok["iters"] == 3
    assert "| 48 | deblur-pg-wavelet |" in gpu.table([skipped, failed, ok], cpu)


class _FakeEvent:
    def __init__(self, enable_timing=False):
        self.at = None

    def record(self):
        import time

        self.at = time.perf_counter()

    def elapsed_time(self, end):
        return 1e3 * (end.at - self.at)


def test_the_cuda_branch_times_with_events_and_reads_the_peak(monkeypatch):
    """The CUDA-only code of a cell, run on CPU tensors with torch.cuda's calls stood in for."""
    from core.tasks import build_task

    calls = []
    monkeypatch.setattr(torch.cuda, "Event", _FakeEvent)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append("sync"))
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda device=None: None)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda device=None: 100)
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda device=None: 350)
    image = torch.rand(1, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    setup = build_task("deblur", image, device="cpu", seed=0, prior="wavelet")
    out = gpu._iterate(setup, "pg", None, torch.device("cuda", 0), _args(), None)
    assert out["iters"] == 3 and out["ms_per_iter"] > 0 and "sync" in calls
    assert (out["peak_bytes"], out["baseline_bytes"], out["growth_bytes"]) == (350, 100, 250)
    assert out["max_rise"] < 0
