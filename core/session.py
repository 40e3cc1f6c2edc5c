"""Session files (TOML): everything needed to replay a run — task settings, image path + SHA-256,
module (+ file hash), variants, initial parameters and the timeline of live changes, versions.

``solver.runs`` lists the runs (:mod:`core.run_spec`), each with its variant, label and parameter
overrides (``fima`` and ``fima · C=0.3`` side by side); ``solver.variants`` keeps the variant names
for older readers. When no run has overrides the runs are just the variants, and a loaded session
keeps none (``Session.runs`` empty: each variant runs once).

``changes`` apply to every run at their iterations; a run's own ``changes`` (a live change the
explorer sent to that run only) apply after them, to that run alone (``Session.run_changes``).

``load_session`` refuses malformed files, files from a newer format version, and images that moved
or changed since the session was saved (their SHA-256 differs).

Format 2 records every option of the task (its description's), ``grayscale`` among them. A format-1
file of deblur or denoise, written when those tasks turned colour images grey without saying so,
reads as ``grayscale = true``, so it still replays to the same trace.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from .fileio import atomic_write_text
from .io import InputError
from .params import EDITABLE, Parameters, ParameterTimeline, RunTimeline
from .proposal import DEFAULT_POLICY, parse_policy
from .run_spec import RunSpec, check_unique, make_run_spec

FORMAT_VERSION = 2
GREY_BEFORE_FORMAT_2 = ("deblur", "denoise")  # tasks that turned colour grey in format 1


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Session:
    """A replayable run: task settings, solver choices, parameters and their live changes."""

    task: dict
    parameters: Parameters
    changes: dict[int, dict[str, float]] = field(default_factory=dict)
    variants: list[str] = field(default_factory=lambda: ["fima"])
    iterations: int = 50
    propose: str = DEFAULT_POLICY  # fima's proposal policy (core/proposal.py)
    runs: list[RunSpec] = field(default_factory=list)  # empty: each variant once, no overrides
    run_changes: dict[str, dict[int, dict[str, float]]] = field(default_factory=dict)  # by label

    def run_specs(self) -> list[RunSpec]:
        """The runs to make: the recorded ones, else each variant once without overrides."""
        return list(self.runs) or [RunSpec(v) for v in dict.fromkeys(self.variants)]

    def timeline(self) -> ParameterTimeline:
        """A fresh timeline that re-applies the recorded changes at their iterations."""
        return ParameterTimeline(self.parameters, self.changes)

    def run_timeline(self, spec: RunSpec, base: Parameters | None = None) -> RunTimeline:
        """Run ``spec``'s timeline: ``base`` (default: the session's parameters) with its
        overrides, then the shared changes and its own at their iterations."""
        shared = ParameterTimeline(base if base is not None else self.parameters, self.changes)
        return RunTimeline(shared, dict(spec.overrides), self.run_changes.get(spec.label))

    def build_options(self) -> dict:
        """Keyword options for :func:`core.tasks.build_task` (image excluded)."""
        return rebuild_options(self.task, drop=("device", "sample"))


RECORD_ONLY = ("task", "image", "image_sha256", "module_sha256")  # settings that record, not build


def rebuild_options(settings: dict, drop: tuple[str, ...] = ()) -> dict:
    """Keyword options for :func:`core.tasks.build_task` that build a task's ``settings`` again
    (a session's task table, or ``TaskSetup.settings``): task, image and hashes apart, ``drop``
    too, unset values left out, a prior's table copied (a builder may fill it in)."""
    skip = {*RECORD_ONLY, *drop}
    options = {k: v for k, v in settings.items() if k not in skip and v is not None}
    if isinstance(options.get("prior"), dict):
        options["prior"] = dict(options["prior"])
    return options


Changes = dict[int, dict[str, float]]


def _versions() -> dict:
    import numpy
    import torch

    from . import __version__

    return {"fima_explorer": __version__, "torch": torch.__version__, "numpy": numpy.__version__}


def session_text(session: Session) -> str:
    """The TOML text of a session."""
    task = {k: v for k, v in session.task.items() if v is not None}
    image = task.get("image")
    if image and Path(image).is_file():
        task["image_sha256"] = sha256_file(image)
    module = task.get("module", "")
    if module and Path(module).is_file():
        task["module_sha256"] = sha256_file(module)
    data = {
        "format_version": FORMAT_VERSION,
        "task": task,
        "solver": {
            "variants": list(session.variants),
            "iterations": int(session.iterations),
            "propose": parse_policy(session.propose).describe(),
            "runs": [_run_table(spec, session.run_changes) for spec in session.run_specs()],
        },
        "parameters": session.parameters.as_dict(),
        "changes": _change_tables(session.changes),
        "versions": _versions(),
    }
    return tomli_w.dumps(data)


def _change_tables(changes: Changes) -> list[dict]:
    return [{"k": int(k), **v} for k, v in sorted(changes.items())]


def _run_table(spec: RunSpec, run_changes: dict[str, Changes]) -> dict:
    table = {"variant": spec.variant, "label": spec.label, "overrides": dict(spec.overrides)}
    if run_changes.get(spec.label):
        table["changes"] = _change_tables(run_changes[spec.label])
    return table


def _read_changes(entries, params: Parameters, source: str) -> Changes:
    """``[{k = 4, C = 0.2}, ...]`` → {4: {"C": 0.2}}, each checked (InputError)."""
    if not isinstance(entries, list):
        raise InputError(f"{source}: changes must be a list of tables")
    changes: Changes = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("k"), int) or entry["k"] < 0:
            raise InputError(f"{source}: each [[changes]] entry needs an iteration k ≥ 0")
        values = {n: _number(n, v) for n, v in entry.items() if n != "k"}
        changes.setdefault(entry["k"], {}).update(values)
    try:
        ParameterTimeline(params, changes)
    except ValueError as exc:
        raise InputError(f"{source}: bad parameter change: {exc}") from exc
    return changes


def _runs(
    raw, params: Parameters, shared: Changes, source: str
) -> tuple[list[RunSpec], dict[str, Changes]]:
    """The ``[[solver.runs]]`` entries, checked (the label is recomputed from the overrides), and
    each run's own changes by label."""
    if not isinstance(raw, list):
        raise InputError(f"{source}: solver.runs must be a list of tables")
    runs, own = [], {}
    for entry in raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("variant"), str):
            raise InputError(f"{source}: each [[solver.runs]] entry needs a variant")
        overrides = entry.get("overrides", {})
        if not isinstance(overrides, dict):
            raise InputError(f"{source}: solver.runs overrides must be a table")
        try:
            spec = make_run_spec(entry["variant"], overrides)
            start = spec.parameters(params)
        except ValueError as exc:
            raise InputError(f"{source}: solver.runs: {exc}") from exc
        runs.append(spec)
        if entry.get("changes"):
            where = f"{source}: solver.runs {spec.label!r}"
            changes = _read_changes(entry["changes"], start, where)
            try:
                RunTimeline(ParameterTimeline(params, shared), dict(spec.overrides), changes)
            except ValueError as exc:
                raise InputError(f"{where}: bad parameter change: {exc}") from exc
            own[spec.label] = changes
    try:
        return check_unique(runs), own
    except ValueError as exc:
        raise InputError(f"{source}: solver.runs: {exc}") from exc


def save_session(path: str | Path, session: Session) -> None:
    """Write a session file atomically."""
    atomic_write_text(path, session_text(session))


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"session: parameter {name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise InputError(f"session: parameter {name} must be finite, got {value}")
    return value


def parse_session(text: str, source: str = "session") -> Session:
    """Parse and validate session TOML text (no file checks)."""
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{source} is not valid TOML: {exc}") from exc
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise InputError(f"{source}: missing or bad format_version")
    if version > FORMAT_VERSION:
        raise InputError(
            f"{source} was written by a newer FIMA Explorer (format {version}, "
            f"this one reads {FORMAT_VERSION}); please upgrade"
        )
    task = data.get("task")
    if not isinstance(task, dict) or not isinstance(task.get("task"), str):
        raise InputError(f"{source}: missing [task] table with a task name")
    if version < 2 and task["task"] in GREY_BEFORE_FORMAT_2:
        task.setdefault("grayscale", True)
    raw = data.get("parameters", {})
    if not isinstance(raw, dict):
        raise InputError(f"{source}: [parameters] must be a table")
    unknown = set(raw) - set(EDITABLE)
    if unknown:
        raise InputError(f"{source}: unknown parameter(s) {', '.join(sorted(unknown))}")
    try:
        params = Parameters(**{k: _number(k, v) for k, v in raw.items()})
    except ValueError as exc:
        raise InputError(f"{source}: {exc}") from exc
    changes = _read_changes(data.get("changes", []), params, source)
    solver = data.get("solver", {})
    variants = solver.get("variants", ["fima"])
    iterations = solver.get("iterations", 50)
    if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
        raise InputError(f"{source}: solver.variants must be a list of names")
    if not isinstance(iterations, int) or isinstance(iterations, bool) or iterations < 1:
        raise InputError(f"{source}: solver.iterations must be a positive whole number")
    propose = solver.get("propose", "always")  # sessions before the policy proposed every time
    try:
        propose = parse_policy(str(propose)).describe()
    except ValueError as exc:
        raise InputError(f"{source}: solver.propose: {exc}") from exc
    runs, run_changes = (
        _runs(solver["runs"], params, changes, source) if "runs" in solver else ([], {})
    )
    if any(spec.overrides for spec in runs) or run_changes:
        variants = list(dict.fromkeys(spec.variant for spec in runs))
    else:  # plain runs are the variants: editing ``variants`` alone keeps working
        runs = []
    return Session(task, params, changes, variants, iterations, propose, runs, run_changes)


def load_session(path: str | Path, check_files: bool = True) -> Session:
    """Read a session file; refuse it clearly if it is malformed or its image changed or moved."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"session file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read session {path.name}: {exc}") from exc
    session = parse_session(text, path.name)
    if check_files:
        for key in ("image", "module"):
            target = session.task.get(key)
            expected = session.task.get(f"{key}_sha256")
            if not expected or not target:
                continue
            if not Path(target).is_file():
                raise InputError(
                    f"session {path.name}: the {key} file {target} has moved or is gone"
                )
            if sha256_file(target) != expected:
                raise InputError(
                    f"session {path.name}: the {key} file {target} has changed since it was saved "
                    "(SHA-256 differs)"
                )
    return session
