"""Issue 30 at the command line: every entry point waits passively and picks its torch threads as the
explorer does (``--threads`` overrides), ``--variant fima,pg`` writes one trace, unknown kernel and
mask forms are named, and ``fima denoise`` says what it wrote."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import core.threads
from core.cli import main
from core.io import load_image, save_image
from core.trace import read_trace_csv

from .helpers import cartoon

ROOT = Path(__file__).resolve().parents[1]
# Records the environment at the moment torch is first imported, then imports the entry point.
IMPORT_PROBE = """
import importlib, os, sys

class Probe:
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            print("OMP_WAIT_POLICY at torch import:", os.environ.get("OMP_WAIT_POLICY"))
            sys.meta_path.remove(self)
        return None

sys.meta_path.insert(0, Probe())
importlib.import_module(sys.argv[1])
"""


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT), **extra)
    return env


@pytest.fixture()
def image(tmp_path) -> Path:
    path = tmp_path / "img.png"
    save_image(path, cartoon(32))
    return path


def _tiny_run(image: Path, out: Path) -> list[str]:
    return ["run", "--task", "denoise", "--image", str(image), "--module", "none", "--iters", "2",
            "--out", str(out)]  # fmt: skip


@pytest.mark.parametrize("entry_point", ["core.cli", "gui.main_window"])
def test_openmp_waits_passively_before_torch_is_imported(entry_point):
    probe = [sys.executable, "-c", IMPORT_PROBE, entry_point]
    done = subprocess.run(probe, env=_environment(), capture_output=True, text=True, timeout=120)
    assert "OMP_WAIT_POLICY at torch import: PASSIVE" in done.stdout, done.stderr
    mine = _environment(OMP_WAIT_POLICY="ACTIVE")  # the user's own setting wins
    done = subprocess.run(probe, env=mine, capture_output=True, text=True, timeout=120)
    assert "OMP_WAIT_POLICY at torch import: ACTIVE" in done.stdout, done.stderr


def test_fima_run_in_a_process_of_its_own_uses_the_threads_asked_for(image, tmp_path):
    run = [*_tiny_run(image, tmp_path / "o"), "--threads", "1"]
    command = [sys.executable, "-m", "core.cli", *run]
    done = subprocess.run(command, env=_environment(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "on cpu, 1 torch thread;" in done.stdout.strip().splitlines()[-1]


def test_the_default_is_the_explorers_choice_and_main_leaves_torch_as_it_found_it(
    image, tmp_path, capsys, monkeypatch
):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(core.threads, "usable_cores", lambda: 3)
    before = torch.get_num_threads()
    assert main(_tiny_run(image, tmp_path / "a")) == 0
    assert "on cpu, 2 torch threads;" in capsys.readouterr().out  # cores − 1
    assert torch.get_num_threads() == before
    assert main([*_tiny_run(image, tmp_path / "b"), "--threads", "1"]) == 0
    assert "on cpu, 1 torch thread;" in capsys.readouterr().out
    monkeypatch.setenv("OMP_NUM_THREADS", "7")  # the user's choice: torch is left alone
    assert main(_tiny_run(image, tmp_path / "c")) == 0
    threads = torch.get_num_threads()
    assert f"on cpu, {threads} torch thread{'s' if threads > 1 else ''};" in capsys.readouterr().out
    from gui.app import leave_a_core_for_the_window

    monkeypatch.delenv("OMP_NUM_THREADS")
    try:
        leave_a_core_for_the_window()  # the explorer: the same choice
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_threads_must_be_a_positive_number(image, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main([*_tiny_run(image, tmp_path / "o"), "--threads", "0"])
    assert info.value.code == 2
    assert "--threads" in capsys.readouterr().err


def test_several_variants_write_one_trace(image, tmp_path, capsys):
    out = tmp_path / "both"
    assert main([*_tiny_run(image, out), "--variant", "fima,pg"]) == 0
    rows = read_trace_csv(out / "trace.csv")
    order = [(r["variant"], r["k"]) for r in rows]
    assert order == [("fima", 0), ("fima", 1), ("pg", 0), ("pg", 1)]
    for name in ("result.png", "result_fima.png", "result_pg.png", "result_pg.npy"):
        assert (out / name).is_file(), name
    np.testing.assert_array_equal(  # result.png is fima's
        load_image(out / "result.png").numpy(), load_image(out / "result_fima.png").numpy()
    )
    assert "fima + pg, 2 iterations each" in capsys.readouterr().out
    assert main(["run", "--session", str(out / "session.toml"), "--out", str(tmp_path / "r")]) == 0
    replayed = read_trace_csv(tmp_path / "r" / "trace.csv")  # the session keeps both variants

    def timeless(rows: list[dict]) -> list[dict]:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]

    assert timeless(replayed) == timeless(rows)

    single = tmp_path / "one"  # one variant: the outputs as before, no result_<variant>
    assert main([*_tiny_run(image, single), "--variant", "pg"]) == 0
    assert not list(single.glob("result_*"))
    assert {r["variant"] for r in read_trace_csv(single / "trace.csv")} == {"pg"}


@pytest.mark.parametrize(
    "variant, message",
    [
        ("fima,bogus", "unknown variant 'bogus'"),
        ("fima,,pg", "expected VARIANT[:key=value,...][,...]"),
    ],
)
def test_a_bad_variant_list_is_one_line(image, tmp_path, capsys, variant, message):
    with pytest.raises(SystemExit) as info:
        main([*_tiny_run(image, tmp_path / "o"), "--variant", variant])
    err = capsys.readouterr().err.strip().splitlines()
    assert info.value.code == 2 and len(err) == 1 and message in err[0]


@pytest.mark.parametrize(
    "option, message",
    [
        (["--task", "deblur", "--kernel", "foo:3"], "use FILE, gauss:SIGMA or levin:N"),
        (["--task", "mri", "--mask", "foo:x"], "radial:PCT"),
        (["--task", "mri", "--mask", "spiral:20"], "radial:PCT"),
        (["--task", "deblur", "--kernel", "missing.npy"], "file not found: missing.npy"),
    ],
)
def test_an_unknown_kernel_or_mask_form_names_the_forms(tmp_path, capsys, option, message):
    assert main(["run", *option, "--iters", "1", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert "file not found" not in err[0] or "missing" in err[0]


def test_denoise_prints_one_line_on_success(tmp_path, capsys):
    noisy = tmp_path / "noisy.npy"
    np.save(noisy, cartoon(40)[0, 0, :, :36].numpy())
    out = tmp_path / "clean.png"
    capsys.readouterr()
    argv = ["denoise", "--image", str(noisy), "--sigma", "25", "--module", "tv", "--threads", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and out.is_file()
    for part in ("noisy.npy 36×40 (grey)", "tv", "σ 25/255", " s on cpu, 1 torch thread", str(out)):
        assert part in lines[0], (part, lines[0])
