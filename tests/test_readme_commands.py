"""Every command in the README's shell blocks still runs, shortened to a couple of iterations.

The ```sh blocks are read in order; each block's commands run one after another in a fresh folder
(a later command may use what an earlier one wrote, as a reader would). Changes, and nothing else:
``--iters`` and ``--quit-after`` become 2; an explorer command that would stay open gets
``--screenshot`` so that it loads what it names and exits; input files a clone does not have
(``photo.png``, ``huge.tif``, …) are generated small; a missing study spec is the README's own
```toml block, with 2 iterations and 2 values per grid axis. ``make`` lines are skipped; a study on
Ray is marked slow. Commands in docs/benchmarks.md are not run here.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import synthetic_image
from tests.helpers import record_message_boxes

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHORT = "2"  # iterations of every shortened run
IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".npy")
PROGRAMS = ("fima", "fima-explorer")
SKIPPED = ("make",)


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]  # program first, as written in the README
    spec_text: str  # the ```toml block above it in the README ('' if none)

    @property
    def text(self) -> str:
        return shlex.join(self.argv)

    @property
    def on_ray(self) -> bool:
        return "--ray" in self.argv


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced block, in order."""
    return re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M)


def readme_blocks() -> list[list[Command]]:
    """The runnable commands of each shell block (blocks with none left out)."""
    blocks, spec = [], ""
    for language, body in _fenced_blocks(README.read_text(encoding="utf-8")):
        if language == "toml":
            spec = body
        if language not in ("sh", "bash", "shell"):
            continue
        commands = []
        for line in body.splitlines():
            argv = shlex.split(line, comments=True)
            if not argv or argv[0] in SKIPPED:
                continue
            assert argv[0] in PROGRAMS, f"README: no rule to run {line!r} in {__file__}"
            commands.append(Command(tuple(argv), spec))
        if commands:
            blocks.append(commands)
    return blocks


BLOCKS = readme_blocks()


def _block_id(commands: list[Command]) -> str:
    first = commands[0].argv
    return "-".join(first[:3] if first[0] == "fima" and first[1] == "study" else first[:2])


def _value(argv: list[str], flag: str) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv else None


def _set(argv: list[str], flag: str, value: str) -> list[str]:
    """argv with ``flag value`` (replaced where given, else appended)."""
    if flag in argv:
        argv = list(argv)
        argv[argv.index(flag) + 1] = value
        return argv
    return [*argv, flag, value]


def _write_image(path: Path, size: int, noisy: bool = False) -> None:
    import imageio.v3 as iio

    image = synthetic_image(size)
    if noisy:
        image = image + np.random.default_rng(0).normal(0, 25 / 255, image.shape)
    pixels = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".npy":
        np.save(path, pixels.astype(np.float32) / 255)
    else:
        iio.imwrite(path, pixels)


def _provide_image(argv: list[str], name: str | None, folder: Path) -> None:
    """Generate the input image ``name`` when the README assumes the reader has one."""
    if name is None or not name.lower().endswith(IMAGE_SUFFIXES) or (folder / name).exists():
        return
    downscale = int(_value(argv, "--downscale") or 1)  # 64 pixels across once downscaled
    _write_image(folder / name, 64 * downscale, noisy="noisy" in name)


def _provide_spec(command: Command, path: Path) -> None:
    """The README's spec, shortened, with an image for every glob it names."""
    import tomli_w

    from core.study.spec import load_spec

    assert command.spec_text, f"README: no ```toml spec above {command.text!r}"
    path.write_text(command.spec_text, encoding="utf-8")
    spec = tomllib.loads(command.spec_text)
    for pattern in spec.get("images", []):
        image = path.parent / pattern.replace("**/", "").replace("*", "a").replace("?", "a")
        _write_image(image, 48)
    load_spec(path)  # the README's spec as printed is valid
    spec["iterations"] = int(SHORT)
    for name, axis in spec.get("grid", {}).items():
        if isinstance(axis, dict):
            spec["grid"][name] = {kind: [lo, hi, 2] for kind, (lo, hi, _n) in axis.items()}
        else:
            spec["grid"][name] = axis[:2]
    path.write_text(tomli_w.dumps(spec), encoding="utf-8")


def short_fima(command: Command, folder: Path) -> list[str]:
    """The argv of ``fima`` (without the program name), shortened, inputs provided."""
    argv = list(command.argv[1:])
    if argv[0] == "run" and "--help" not in argv:
        argv = _set(argv, "--iters", SHORT)
    if argv[0] in ("run", "denoise"):
        _provide_image(argv, _value(argv, "--image"), folder)
    if argv[:2] == ["study", "run"] and not (folder / argv[2]).exists():
        _provide_spec(command, folder / argv[2])
    return argv


def short_explorer(command: Command, folder: Path, index: int) -> list[str]:
    """The argv of ``fima-explorer``, shortened, made to exit, inputs provided."""
    argv = list(command.argv[1:])
    image = argv[0] if argv and not argv[0].startswith("-") else None  # fima-explorer [IMAGE]
    _provide_image(argv, image, folder)
    if "--quit-after" in argv or "--run" in argv:
        argv = _set(argv, "--quit-after", SHORT)
    elif "--screenshot" not in argv:  # an interactive start: load, take a picture, exit
        argv = [*argv, "--screenshot", f"start_{index}.png"]
    return argv


def _run_fima(argv: list[str], capsys) -> tuple[int, str]:
    from core.cli import main

    try:
        code = main(argv)
    except SystemExit as exc:  # --help
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.err.strip()


def _run_explorer(argv: list[str], capsys, dialogs: list[str]) -> tuple[int, str]:
    from PySide6.QtCore import QSettings

    from gui.app import main

    QSettings().clear()  # every command starts as on a fresh install
    code = main(argv)
    captured = capsys.readouterr()
    if dialogs:
        code, message = code or 1, "dialog: " + dialogs[-1]
        dialogs.clear()
        return code, message
    return code, captured.err.strip()


@pytest.fixture
def explorer_dialogs(request, monkeypatch) -> list[str]:
    """Isolated QSettings; message boxes recorded instead of shown."""
    request.getfixturevalue("qt_settings_dir")
    return record_message_boxes(monkeypatch)


def _run_block(commands: list[Command], folder: Path, monkeypatch, capsys, request) -> None:
    monkeypatch.chdir(folder)
    dialogs = None
    for index, command in enumerate(commands):
        if command.argv[0] == "fima":
            argv = short_fima(command, folder)
            code, err = _run_fima(argv, capsys)
        else:
            if dialogs is None:
                dialogs = request.getfixturevalue("explorer_dialogs")
            argv = short_explorer(command, folder, index)
            code, err = _run_explorer(argv, capsys, dialogs)
        assert code == 0, (
            f"README: {command.text!r} (run as {shlex.join(argv)}) exited {code}: {err}"
        )


def test_the_readme_has_commands_of_both_programs():
    programs = [c.argv[0] for block in BLOCKS for c in block]
    assert programs.count("fima") >= 5 and programs.count("fima-explorer") >= 3, programs
    subcommands = {c.argv[1] for block in BLOCKS for c in block if c.argv[0] == "fima"}
    assert {"run", "tasks", "denoise", "study"} <= subcommands


@pytest.mark.parametrize("commands", BLOCKS, ids=[_block_id(b) for b in BLOCKS])
def test_readme_commands_run(commands, tmp_path, monkeypatch, capsys, request):
    """Every block's commands in order, in one folder; a study on Ray is left to the slow test."""
    _run_block([c for c in commands if not c.on_ray], tmp_path, monkeypatch, capsys, request)


RAY_COMMANDS = [c for block in BLOCKS for c in block if c.on_ray]


@pytest.mark.slow
@pytest.mark.parametrize("command", RAY_COMMANDS, ids=[c.text for c in RAY_COMMANDS])
def test_readme_study_on_ray_runs(command, tmp_path, monkeypatch, capsys, request):
    pytest.importorskip("ray")
    _run_block([command], tmp_path, monkeypatch, capsys, request)
