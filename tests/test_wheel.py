"""The wheel works where the repo is not: built, installed into a fresh venv, run from another folder.

The fresh venv (torch from the project's pin first, then the wheel and its dependencies) is kept in
``.venv-wheeltest/`` and reused while the project's dependencies are unchanged; each run reinstalls
the newly built wheel into it. From a fresh clone the first run builds it (a few minutes).
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".venv-wheeltest"
TORCH_PIN = (
    "torch==2.13.0"  # the CPU wheel on disk; a bare "torch" would pull a multi-GB CUDA build
)
RUN_FILES = (
    "trace.csv",
    "result.png",
    "result.npy",
    "observation.png",
    "ground_truth.png",
    "session.toml",
)
SKIPPED_PARTS = {".git", "build", "dist", "__pycache__", ".pytest_cache", ".ruff_cache"}


def _run(cmd: list, cwd: Path, env: dict | None = None, timeout: float = 900) -> str:
    """Run ``cmd``; on failure, fail the test with its output's tail."""
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-3000:]
        pytest.fail(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{tail}")
    return proc.stdout


def _source_files() -> list[Path]:
    """The project's files as a clone has them (tracked and untracked-not-ignored), repo-relative."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
        names = [Path(n) for n in out.split("\0") if n]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: walk the tree
        names = [p.relative_to(ROOT) for p in ROOT.rglob("*") if p.is_file()]
        names = [n for n in names if not n.parts[0].startswith(".venv")]
    return [n for n in names if not SKIPPED_PARTS & set(n.parts) and (ROOT / n).is_file()]


def _bundled_files() -> set[str]:
    """Every file under resources/ (what the wheel must carry), as wheel paths."""
    return {
        n.as_posix()
        for n in _source_files()
        if n.parts[0] == "resources" and n.suffix not in (".pyc", ".pyo")
    }


def _build_wheel(dest: Path) -> Path:
    """Build the wheel from a clean copy of the source (no stale build/ folder can leak in)."""
    source = dest / "src"
    for name in _source_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    wheels = dest / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", source, "--no-deps", "-q", "-w", wheels], dest)
    (wheel,) = wheels.glob("fima_explorer-*.whl")
    return wheel


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock on ``path`` (two test sessions must not build the same venv at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _dependencies_key() -> str:
    """A hash of what the venv's contents depend on: the project's dependencies and Python."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    what = [project.get("dependencies", []), project.get("requires-python"), sys.version, TORCH_PIN]
    return hashlib.sha256(json.dumps(what).encode()).hexdigest()[:16]


def _fresh_venv(wheel: Path, work: Path) -> Path:
    """The cached fresh venv with ``wheel`` installed (rebuilt when the dependencies changed)."""
    key = _dependencies_key()
    stamp = CACHE / ".pyproject-hash"
    python = CACHE / "bin" / "python"
    constraints = work / "constraints.txt"
    constraints.write_text(TORCH_PIN + "\n")
    pip = [python, "-m", "pip", "install", "-q", "-c", constraints]
    if not (python.exists() and stamp.exists() and stamp.read_text() == key):
        shutil.rmtree(CACHE, ignore_errors=True)
        venv.create(CACHE, with_pip=True, clear=True)
        _run([*pip, TORCH_PIN], work)
        _run([*pip, wheel], work)  # the dependencies, with torch held at the pin
        stamp.write_text(key)
    _run([*pip, "--no-deps", "--force-reinstall", wheel], work)
    return CACHE


def _clean_env(home: Path) -> dict:
    """The environment of a user's shell: no PYTHONPATH, settings in a throwaway home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), QT_QPA_PLATFORM="offscreen")
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(venv folder, wheel path): the wheel built now, installed into the fresh venv."""
    work = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(work)
    with _locked(ROOT / ".venv-wheeltest.lock"):
        yield _fresh_venv(wheel, work), wheel


def test_wheel_carries_every_bundled_file(installed):
    _, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "resources/__init__.py" in names
    missing = _bundled_files() - names
    assert not missing, f"files under resources/ left out of the wheel: {sorted(missing)}"
    assert not any("__pycache__" in n for n in names)


def test_installed_fima_run_uses_shipped_files(installed, tmp_path):
    env_dir, _ = installed
    env = _clean_env(tmp_path)
    python = env_dir / "bin" / "python"
    probe = (
        "import core, torch; from core.io import resources_dir;"
        "from core.modules.cnn import default_weights_path as w;"
        "print(core.__file__); print(w()); print(w().is_file()); print(torch.__version__)"
    )
    core_file, weights, exists, torch_version = _run([python, "-c", probe], tmp_path, env).split()
    site = str(env_dir.resolve())
    assert core_file.startswith(site) and weights.startswith(site), (core_file, weights)
    assert exists == "True"
    assert torch_version.startswith("2.13.0"), f"pip changed torch to {torch_version}"

    out = tmp_path / "out"
    cmd = [env_dir / "bin" / "fima", "run", "--task", "deblur", "--iters", "2", "--module", "cnn"]
    _run([*cmd, "--out", out], tmp_path, env)
    for name in RUN_FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    with open(out / "trace.csv", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 2
    assert "cnn" in (out / "session.toml").read_text()


def test_installed_explorer_runs_offscreen(installed, tmp_path):
    env_dir, _ = installed
    export = tmp_path / "export"
    cmd = [env_dir / "bin" / "fima-explorer", "--task", "deblur", "--run", "--quit-after", "2"]
    _run([*cmd, "--export", export], tmp_path, _clean_env(tmp_path), timeout=300)
    for name in ("trace.csv", "result.png", "session.toml"):
        assert (export / name).is_file(), name
