"""The ``fima`` command line: outputs on disk, replay, and one-line errors with exit status 2."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from core.cli import main
from core.io import load_image, save_image
from core.trace import COLUMNS, read_trace_csv

from .helpers import cartoon


@pytest.fixture()
def image(tmp_path):
    path = tmp_path / "img.png"
    save_image(path, cartoon(48))
    return path


def test_run_writes_the_contract_files(tmp_path, image):
    out = tmp_path / "out"
    rc = main(["run", "--task", "deblur", "--image", str(image), "--kernel", "gauss:1.2",
               "--noise", "0.01", "--module", "tv", "--iters", "6", "--out", str(out)])  # fmt: skip
    assert rc == 0
    for name in ("trace.csv", "result.png", "result.npy", "observation.png", "ground_truth.png",
                 "session.toml"):  # fmt: skip
        assert (out / name).is_file(), name
    rows = read_trace_csv(out / "trace.csv")
    assert [r["k"] for r in rows] == list(range(6))
    assert set(COLUMNS) <= set(rows[0])
    assert all(r["variant"] == "fima" for r in rows)
    result = np.load(out / "result.npy")
    assert result.shape == (48, 48) and result.dtype == np.float32
    assert load_image(out / "result.png").shape == (1, 1, 48, 48)


def test_session_replay_gives_the_same_trace(tmp_path, image):
    first, second = tmp_path / "a", tmp_path / "b"
    args = ["run", "--image", str(image), "--module", "tv", "--iters", "5", "--C", "0.3"]
    assert main([*args, "--out", str(first)]) == 0
    assert main(["run", "--session", str(first / "session.toml"), "--out", str(second)]) == 0
    a, b = read_trace_csv(first / "trace.csv"), read_trace_csv(second / "trace.csv")
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(a) == strip(b)
    assert a[0]["C"] == 0.3


def test_denoise_command(tmp_path, image):
    noisy = cartoon(48) + 0.1 * torch.randn(
        1, 1, 48, 48, generator=torch.Generator().manual_seed(0)
    )
    np.save(tmp_path / "noisy.npy", noisy[0, 0].numpy())
    out = tmp_path / "clean.npy"
    assert main(["denoise", "--image", str(tmp_path / "noisy.npy"), "--sigma", "25",
                 "--module", "tv", "--out", str(out)]) == 0  # fmt: skip
    clean = np.load(out)
    truth = cartoon(48)[0, 0].numpy()
    assert np.mean((clean - truth) ** 2) < np.mean((noisy[0, 0].numpy() - truth) ** 2)


@pytest.mark.parametrize(
    "args, match",
    [
        (["run", "--image", "missing.png", "--out", "X"], "file not found"),
        (["run", "--kernel", "gauss:-2", "--module", "tv", "--out", "X"], "SIGMA"),
        (["run", "--task", "denoise", "--kernel", "levin:1", "--out", "X"], "do not apply"),
        (["run", "--C", "-1", "--module", "tv", "--out", "X"], "must be positive"),
        (["run", "--gamma", "nan", "--out", "X"], "finite"),
        (["run", "--module", "nosuch", "--out", "X"], "unknown module"),
        (["run", "--iters", "0", "--out", "X"], "positive"),
        (["run", "--noise", "5", "--module", "tv", "--out", "X"], "noise"),
        (["run", "--session", "nosuch.toml", "--out", "X"], "not found"),
        (["denoise", "--image", "nosuch.png", "--sigma", "25", "--out", "a.png"], "not found"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, monkeypatch, capsys, args, match):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        raise SystemExit(main(args))
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert match in err
    assert "Traceback" not in err


def test_console_script_one_line_error_in_a_subprocess(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    proc = subprocess.run(
        [sys.executable, "-m", "core.cli", "run", "--image", str(bad), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "bad.png" in proc.stderr


def test_a_run_that_does_not_fit_in_memory_is_refused_with_a_downscale_hint(
    tmp_path, image, monkeypatch, capsys
):
    import core.memory

    monkeypatch.setattr(core.memory, "available_bytes", lambda: 150_000)  # the host's memory
    rc = main(
        [
            "run",
            "--image",
            str(image),
            "--device",
            "cpu",
            "--module",
            "tv",
            "--iters",
            "2",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "--downscale" in err and len(err.splitlines()) == 1
    factor = int(err.split("--downscale ")[1].split()[0])
    assert factor >= 2
    out = tmp_path / "small"
    argv = ["run", "--image", str(image), "--module", "tv", "--kernel", "gauss:1", "--iters", "2"]
    argv += ["--out", str(out)]
    assert main([*argv, "--downscale", str(factor)]) == 0
    assert np.load(out / "result.npy").shape == (48 // factor, 48 // factor)
    assert main(["run", "--session", str(out / "session.toml"), "--out", str(tmp_path / "r")]) == 0


def test_session_with_several_variants_replays_every_one_to_the_same_trace(tmp_path, image):
    """B2: one trace.csv with every variant of the session, one result per variant; each
    variant's rows are those of a run of that variant alone; --variant picks one."""
    from core.session import load_session, save_session

    first = tmp_path / "a"
    args = ["run", "--image", str(image), "--module", "none", "--iters", "3"]
    assert main([*args, "--out", str(first)]) == 0
    session = load_session(first / "session.toml")
    session.variants, session.changes = ["fima", "pg"], {1: {"C": 0.2}}
    save_session(tmp_path / "two.toml", session)
    out = tmp_path / "b"
    assert main(["run", "--session", str(tmp_path / "two.toml"), "--out", str(out)]) == 0
    rows = read_trace_csv(out / "trace.csv")
    assert [(r["variant"], r["k"]) for r in rows] == [("fima", k) for k in range(3)] + [
        ("pg", k) for k in range(3)
    ]
    c0 = session.parameters.C
    assert [r["C"] for r in rows] == [c0, 0.2, 0.2] * 2  # the live change, in both
    for variant in ("fima", "pg"):
        assert (out / f"result_{variant}.png").is_file()
        assert np.load(out / f"result_{variant}.npy").shape == (48, 48)
    np.testing.assert_array_equal(np.load(out / "result.npy"), np.load(out / "result_fima.npy"))
    assert load_session(out / "session.toml").variants == ["fima", "pg"]

    again = tmp_path / "c"  # the replay's own session replays to the same trace
    assert main(["run", "--session", str(out / "session.toml"), "--out", str(again)]) == 0
    assert _without_time(read_trace_csv(again / "trace.csv")) == _without_time(rows)
    only = tmp_path / "d"
    argv = ["run", "--session", str(tmp_path / "two.toml"), "--variant", "pg"]
    assert main([*argv, "--out", str(only)]) == 0
    alone = read_trace_csv(only / "trace.csv")
    assert _without_time(alone) == _without_time([r for r in rows if r["variant"] == "pg"])
    assert not (only / "result_pg.png").exists()  # one variant: the files of DESIGN.md §4


def _without_time(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]
