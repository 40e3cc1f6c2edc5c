"""A study spec (TOML): parsing, validation before anything runs, and expansion into cells.

::

    task = "deblur"
    images = ["photos/*.png"]          # files, folders or globs, relative to the spec's folder
    variants = ["fima", "pg"]          # or with own parameters: "fima:C=0.3" (core/run_spec.py)
    iterations = 100
    [fixed]                            # any ``fima run`` option or parameter, one value
    kernel = "levin:4"
    noise = 0.01
    propose = "adaptive"               # fima's proposal policy (or an axis: ["always", "adaptive"])
    [grid]                             # axes: a list, {log = [lo, hi, n]} or {lin = [lo, hi, n]}
    C = {log = [0.01, 1.0, 6]}
    mu = {log = [0.03, 3.0, 6]}

Cells = images × variants × the product of the grid axes. A variant may carry its own parameters
(``fima:C=0.3``, not on a grid axis; they win over [fixed]); its cells are keyed by the run's label
(``variant = "fima · C=0.3"`` in the store, as in trace.csv's label column). Every problem is an :class:`InputError`
whose one-line message names the key at fault.
"""

from __future__ import annotations

import glob
import itertools
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import first_line
from ..io import IMAGE_SUFFIXES, InputError
from ..proposal import DEFAULT_POLICY, parse_policy
from ..run_spec import check_unique, parse_run_spec

TOP_LEVEL = ("task", "images", "variants", "iterations", "fixed", "grid")
PRESET_KEY = "preset"
PROPOSE_KEY = "propose"  # fima's proposal policy (core/proposal.py), in [fixed] or as an axis
PATH_OPTIONS = ("kernel", "mask", "module")  # options whose value may be a file beside the spec
MAX_ITERATIONS = 1_000_000
MAX_AXIS_VALUES = 10_000
MAX_CELLS = 1_000_000
SAMPLE_LABEL = "sample"  # the image column of cells run on the task's bundled sample


@dataclass(frozen=True)
class Axis:
    """One grid axis: its name as in the spec, its values, and how they were spaced."""

    name: str
    values: tuple
    scale: str = "list"  # "list", "log" or "lin"


@dataclass(frozen=True)
class Cell:
    """One engine run of a study: an image, a variant and a value on every grid axis."""

    id: int
    image: str  # absolute path, or "sample" for the task's bundled sample
    variant: str
    values: dict


@dataclass
class StudySpec:
    """A parsed, validated study spec."""

    task: str
    images: tuple[str, ...]
    variants: tuple[str, ...]
    iterations: int
    fixed: dict
    axes: tuple[Axis, ...]
    base_dir: Path
    source: str = ""
    _cells: list[Cell] | None = field(default=None, repr=False, compare=False)

    @property
    def axis_names(self) -> tuple[str, ...]:
        """Names of the grid axes, in the spec's order."""
        return tuple(axis.name for axis in self.axes)

    def cells(self) -> list[Cell]:
        """All cells: images (outer) × variants × the grid product (last axis fastest)."""
        if self._cells is None:
            combos = list(itertools.product(*(axis.values for axis in self.axes)))
            cells, names = [], self.axis_names
            for image in self.images:
                for variant in self.variants:
                    for combo in combos:
                        cells.append(
                            Cell(
                                len(cells) + 1, image, variant, dict(zip(names, combo, strict=True))
                            )
                        )
            self._cells = cells
        return self._cells

    def canonical(self) -> str:
        """A JSON text that is equal for two specs exactly when they describe the same cells."""
        return json.dumps(
            {
                "task": self.task,
                "images": list(self.images),
                "variants": list(self.variants),
                "iterations": self.iterations,
                "fixed": self.fixed,
                "axes": [[a.name, list(a.values)] for a in self.axes],
            },
            sort_keys=True,
        )

    def job(self, cell: Cell, threads: int = 1) -> dict:
        """Everything a worker needs to run ``cell`` (plain data, picklable)."""
        return make_job(self, cell, threads)


def parameter_names() -> tuple[str, ...]:
    """Parameter keys a spec accepts ([fixed] or [grid]): C, mu, gamma, lam, rho, σ schedule."""
    from ..params import EDITABLE

    return EDITABLE


def task_option_names(task: str) -> tuple[str, ...]:
    """Build options of ``task`` (what ``build_task`` accepts besides the image): its own, then
    those every task takes."""
    from ..tasks import describe_task
    from ..tasks.description import BUILD_OPTIONS

    return (*describe_task(task).option_names(), *BUILD_OPTIONS)


def load_spec(path: str | Path) -> StudySpec:
    """Read and validate a spec file (InputError naming the bad key)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"spec file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read spec {path.name}: {exc}") from None
    return parse_spec(text, path.resolve().parent, check=True)


def parse_spec(text: str, base_dir: str | Path = ".", check: bool = True) -> StudySpec:
    """Parse spec TOML text; ``check`` also builds the first image's problem for every value."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"spec is not valid TOML: {exc}") from None
    spec = spec_from_dict(data, base_dir)
    spec.source = text
    if check:
        check_values(spec)
    return spec


def spec_from_dict(data: dict, base_dir: str | Path = ".") -> StudySpec:
    """A StudySpec from parsed TOML, with names, types and shapes checked (values: check_values)."""
    from ..tasks import task_names

    base_dir = Path(base_dir).resolve()
    unknown = [key for key in data if key not in TOP_LEVEL]
    if unknown:
        raise InputError(f"spec: unknown key {unknown[0]!r} (keys are {', '.join(TOP_LEVEL)})")
    task = data.get("task", "deblur")
    if task not in task_names():
        raise InputError(f"spec: task = {task!r}: choose {', '.join(task_names())}")
    variants = data.get("variants", ["fima"])
    if isinstance(variants, str):
        variants = [variants]
    if not isinstance(variants, list) or not variants:
        raise InputError("spec: variants must be a non-empty list")
    if not all(isinstance(v, str) for v in variants):
        raise InputError("spec: variants must be names (VARIANT or VARIANT:key=value,...)")
    try:
        runs = check_unique(parse_run_spec(v) for v in variants)
    except ValueError as exc:
        raise InputError(f"spec: variants: {exc}") from None
    variants = [run.label for run in runs]
    iterations = data.get("iterations", 50)
    if isinstance(iterations, bool) or not isinstance(iterations, int):
        raise InputError(f"spec: iterations must be a whole number, got {iterations!r}")
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise InputError(f"spec: iterations must be from 1 to {MAX_ITERATIONS}, got {iterations}")
    images = expand_images(data.get("images"), base_dir)
    allowed = (*task_option_names(task), PRESET_KEY, PROPOSE_KEY, *parameter_names())
    fixed = data.get("fixed", {})
    if not isinstance(fixed, dict):
        raise InputError("spec: fixed must be a table ([fixed])")
    for key, value in fixed.items():
        _check_key("fixed", key, allowed, task)
        _check_scalar(f"[fixed] {key}", value)
    if "grid" not in data:
        raise InputError("spec: [grid] is missing (give at least one axis, e.g. C = [0.1, 0.2])")
    grid = data["grid"]
    if not isinstance(grid, dict):
        raise InputError("spec: grid must be a table ([grid])")
    if not grid:
        raise InputError("spec: [grid] is empty (give at least one axis, e.g. C = [0.1, 0.2])")
    axes = []
    for key, value in grid.items():
        _check_key("grid", key, allowed, task)
        if key in fixed:
            raise InputError(f"spec: {key} is both in [fixed] and in [grid]")
        axes.append(expand_axis(key, value))
    for run in runs:
        on_axis = [name for name in run.overrides if name in grid]
        if on_axis:
            raise InputError(f"spec: variants: {run.text} sets {on_axis[0]}, a [grid] axis")
    total = len(images) * len(variants) * math.prod(len(a.values) for a in axes)
    if total > MAX_CELLS:
        raise InputError(f"spec: {total} cells is more than {MAX_CELLS}")
    return StudySpec(task, images, tuple(variants), iterations, dict(fixed), tuple(axes), base_dir)


def _check_key(table: str, key: str, allowed: tuple[str, ...], task: str) -> None:
    if key not in allowed:
        raise InputError(
            f"spec: [{table}] {key}: unknown key for task {task} "
            f"(use {', '.join(k for k in allowed if k != 'device')})"
        )


def _check_scalar(where: str, value) -> None:
    if isinstance(value, (list, dict)) or not isinstance(value, (str, int, float, bool)):
        raise InputError(f"spec: {where} must be one number, text or true/false, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"spec: {where} must be finite, got {value}")


def expand_axis(name: str, value) -> Axis:
    """An axis from a list, ``{log = [lo, hi, n]}`` or ``{lin = [lo, hi, n]}``."""
    where = f"[grid] {name}"
    if isinstance(value, list):
        if not value:
            raise InputError(f"spec: {where} is an empty list")
        for item in value:
            _check_scalar(where, item)
        if len({json.dumps(v) for v in value}) != len(value):
            raise InputError(f"spec: {where} lists a value twice")
        return Axis(name, tuple(value), "list")
    if isinstance(value, dict):
        if len(value) != 1 or next(iter(value)) not in ("log", "lin"):
            raise InputError(
                f"spec: {where} must be a list, {{log = [lo, hi, n]}} or {{lin = ...}}"
            )
        scale, triple = next(iter(value.items()))
        return Axis(name, spaced_values(where, scale, triple), scale)
    raise InputError(f"spec: {where} must be a list, {{log = [lo, hi, n]}} or {{lin = ...}}")


def spaced_values(where: str, scale: str, triple) -> tuple:
    """n values from lo to hi, geometric (log) or even (lin), rounded to 12 significant digits."""
    if not isinstance(triple, list) or len(triple) != 3:
        raise InputError(f"spec: {where}: {scale} takes [lo, hi, n]")
    lo, hi, n = triple
    for bound in (lo, hi):
        if (
            isinstance(bound, bool)
            or not isinstance(bound, (int, float))
            or not math.isfinite(bound)
        ):
            raise InputError(f"spec: {where}: {scale} bounds must be finite numbers, got {bound!r}")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_AXIS_VALUES:
        raise InputError(f"spec: {where}: n must be a whole number from 1 to {MAX_AXIS_VALUES}")
    if n > 1 and lo == hi:
        raise InputError(f"spec: {where}: lo and hi are equal, so the {n} values would repeat")
    if scale == "log":
        if lo <= 0 or hi <= 0:
            raise InputError(f"spec: {where}: log bounds must be positive, got [{lo}, {hi}]")
        raw = np.geomspace(lo, hi, n) if n > 1 else np.array([lo], dtype=float)
    else:
        raw = np.linspace(lo, hi, n) if n > 1 else np.array([lo], dtype=float)
    values = [float(f"{v:.12g}") for v in raw]
    if isinstance(lo, int) and isinstance(hi, int) and all(v == int(v) for v in values):
        values = [int(v) for v in values]
    if len(set(values)) != len(values):
        raise InputError(f"spec: {where}: the {n} values repeat (too many for the range)")
    return tuple(values)


def expand_images(entries, base_dir: Path) -> tuple[str, ...]:
    """Absolute image paths from files, folders and globs (none given: the task's sample)."""
    if entries is None:
        return (SAMPLE_LABEL,)
    if isinstance(entries, str):
        entries = [entries]
    if not isinstance(entries, list) or not entries:
        raise InputError("spec: images must be a non-empty list of files, folders or globs")
    found: list[str] = []
    for entry in entries:
        if not isinstance(entry, str) or not entry.strip():
            raise InputError(f"spec: images: {entry!r} is not a file, folder or glob")
        path = Path(entry).expanduser()
        path = path if path.is_absolute() else base_dir / path
        if path.is_dir():
            matches = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        elif glob.has_magic(str(path)):
            matches = sorted(
                Path(p) for p in glob.glob(str(path)) if Path(p).suffix.lower() in IMAGE_SUFFIXES
            )
        elif path.is_file():
            matches = [path]
        else:
            raise InputError(f"spec: images: {entry!r}: file not found")
        matches = [p for p in matches if p.is_file()]
        if not matches:
            raise InputError(f"spec: images: {entry!r} matches no image")
        found.extend(str(p.resolve()) for p in matches)
    return tuple(dict.fromkeys(found))


def resolve_option(spec: StudySpec, key: str, value):
    """An option's value as the engine takes it: a file beside the spec becomes an absolute path."""
    if key in PATH_OPTIONS and isinstance(value, str) and value:
        path = Path(value).expanduser()
        if not path.is_absolute() and (spec.base_dir / path).exists():
            return str((spec.base_dir / path).resolve())
        if path.is_absolute() or path.exists():
            return str(path)
    return value


def make_job(spec: StudySpec, cell: Cell, threads: int = 1) -> dict:
    """The worker's input for one cell: build options, parameter overrides and the run's size."""
    from ..params import PRESETS

    settings = {**spec.fixed, **cell.values}
    params = set(parameter_names())
    preset = settings.pop(PRESET_KEY, None)
    propose = settings.pop(PROPOSE_KEY, DEFAULT_POLICY)
    overrides = dict(PRESETS[preset]) if preset else {}
    overrides.update({k: v for k, v in settings.items() if k in params})
    run = parse_run_spec(cell.variant)  # the cell's label: the variant and its own parameters
    overrides.update(run.overrides)
    options = {k: resolve_option(spec, k, v) for k, v in settings.items() if k not in params}
    return {
        "id": cell.id,
        "task": spec.task,
        "image": None if cell.image == SAMPLE_LABEL else cell.image,
        "variant": run.variant,
        "label": run.label,
        "iterations": spec.iterations,
        "propose": propose,
        "options": options,
        "overrides": overrides,
        "threads": int(threads),
    }


def check_values(spec: StudySpec) -> None:
    """Refuse, before anything runs, every value a run would refuse (InputError naming the key).

    Parameters go through :class:`~core.params.Parameters`; modules are looked up (a TorchScript
    file must exist: loading it is the cell's job); every other option is checked by building the
    first image's problem once per value (with the cheap module ``none``, on the CPU).
    """
    from ..params import PRESETS, Parameters

    params = set(parameter_names())
    probe = Parameters()
    for key, value, where in _all_values(spec):
        if key in params:
            try:
                probe.with_changes(**{key: value})
            except (TypeError, ValueError) as exc:
                raise InputError(f"spec: {where}: {exc}") from None
        elif key == PROPOSE_KEY:
            try:
                parse_policy(value)
            except ValueError as exc:
                raise InputError(f"spec: {where}: {exc}") from None
        elif key == PRESET_KEY:
            if value not in PRESETS:
                raise InputError(f"spec: {where}: choose a preset of {', '.join(PRESETS)}")
        elif key == "module":
            _check_module(spec, value, where)
        elif key == "device":
            _check_device(value, where)
    _check_images(spec)
    _check_builds(spec)


def _all_values(spec: StudySpec):
    for key, value in spec.fixed.items():
        yield key, value, f"[fixed] {key} = {value!r}"
    for axis in spec.axes:
        for value in axis.values:
            yield axis.name, value, f"[grid] {axis.name} = {value!r}"


def is_module_file(spec: StudySpec, value) -> bool:
    """Whether a module value names a TorchScript file (rather than a module by name)."""
    text = str(value)
    return (
        text.endswith((".pt", ".pth", ".ts"))
        or Path(resolve_option(spec, "module", text)).is_file()
    )


def _check_module(spec: StudySpec, value, where: str) -> None:
    """A module is a name (checked by building with it) or a TorchScript file that exists."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"spec: {where}: a module is a name or a TorchScript file")
    if is_module_file(spec, value) and not Path(resolve_option(spec, "module", value)).is_file():
        raise InputError(f"spec: {where}: module file not found")


def _check_device(value, where: str) -> None:
    from ..tasks.base import resolve_device

    try:
        resolve_device(value)
    except InputError as exc:
        raise InputError(f"spec: {where}: {exc}") from None


def _check_images(spec: StudySpec) -> None:
    from ..io import load_image

    for image in spec.images:
        if image == SAMPLE_LABEL:
            continue
        try:
            load_image(image)
        except InputError as exc:
            raise InputError(f"spec: images: {exc}") from None


def _check_builds(spec: StudySpec) -> None:
    """Build the first image's problem with the [fixed] options added one at a time, then once
    more for every value of every option axis; the first refusal names its key.

    The builds use the CPU and the cheap module ``none``, except to check a module given by name
    (a TorchScript file is the cell's to load: a broken one fails its cells, not the study).
    """
    from ..tasks import build_task

    skip = {*parameter_names(), PRESET_KEY, PROPOSE_KEY, "device"}
    image = None if spec.images[0] == SAMPLE_LABEL else spec.images[0]
    base = {"module": "none", "device": spec.fixed.get("device", "cpu")}
    options: dict = {}
    trials: list[tuple[dict, str]] = [({}, "images")]

    def wanted(key: str, value) -> bool:
        return key not in skip and not (key == "module" and is_module_file(spec, value))

    for key, value in spec.fixed.items():
        if wanted(key, value):
            options[key] = resolve_option(spec, key, value)
            trials.append((dict(options), f"[fixed] {key} = {value!r}"))
    for axis in spec.axes:
        for value in axis.values:
            if wanted(axis.name, value):
                trial = {**options, axis.name: resolve_option(spec, axis.name, value)}
                trials.append((trial, f"[grid] {axis.name} = {value!r}"))
    for trial, where in trials:
        try:
            build_task(spec.task, image, **{**base, **trial})
        except (InputError, TypeError, ValueError) as exc:
            raise InputError(f"spec: {where}: {first_line(exc)}") from None
