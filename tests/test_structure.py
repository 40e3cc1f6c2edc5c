"""The code's shape: no import cycles among the modules of ``core`` and ``gui``, no import from a
lower floor to a higher one, no long files.

The import graph is read statically with :mod:`ast` and counts EVERY import a module makes: at module
level, inside functions (deferred), and under ``if TYPE_CHECKING:`` (a type is a dependence too).
Importing ``a.b.c`` also runs the package ``a.b``'s ``__init__``, so the edge goes to both — except to
the importer's own packages, which are loaded before it.

The floors, lowest first (an import may go to its own floor or below, never up; ``core`` is below
``gui`` as a whole, and never imports it):

core
  1. foundations — errors, fileio, resources, arguments (argparse types), threads, acceptance (the
     acceptance rate's one definition), params, history, metrics,
     operators, wavelets, unet (the network definition and its weight files): no other core module.
  2. engine — io, fidelity, priors (hand-made, learned, the registry building them by name), splitting,
     problem, trace, algorithm, certificate, session, summary, movie: Ψ and Algorithm 1.
  3. modules — ``core.modules``: the modules A = A_g ∘ A_f (denoisers, refinement).
  4. tasks — ``core.tasks``: each application's problem, options and defaults, with the pieces only
     tasks use (streaks, retinex, masks, layer operators).
  5. runs — ``core`` (the scripting API), memory, speed, outputs: what one run needs around a
     task.
  6. study — ``core.study``: sweeps of runs.
  7. cli — cli, cli_help: the ``fima`` command line over all of it.

gui
  1. support — the package, settings, recent_files, busy, display: leaves that import no other gui
     module.
  2. state — ``gui.state``: the Qt-free evented state.
  3. views — ``gui.views`` and the menus (actions): widgets that show the state and write to it.
  4. run — ``gui.run``: the worker thread, the solver run and its controller, given the views it
     feeds.
  5. windows — ``gui.dialogs``, ``gui.study``, export, window_files: dialogs and side windows.
  6. main window — main_window and its layout: composes views, dialogs and the run.
  7. app — app, scripted, ``__main__``: the entry point.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "gui")
MAX_LINES = 500
KNOWN_CYCLES: set[frozenset[str]] = set()  # none today; list one here only to accept it knowingly
# (floor, module patterns): a pattern is a module's dotted name, or ``package.*`` for its submodules
FLOORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "core foundations",
        (
            "core.errors",
            "core.precision",
            "core.interrupt",
            "core.fileio",
            "core.resources",
            "core.arguments",
            "core.threads",
            "core.run_label",
            "core.acceptance",
            "core.params",
            "core.history",
            "core.metrics",
            "core.operators",
            "core.wavelets",
            "core.unet",
            "core.check",
            "core.proposal",
        ),
    ),
    (
        "core engine",
        (
            "core.io",
            "core.fidelity",
            "core.priors",
            "core.learned_prior",
            "core.learned_prox_prior",
            "core.prior_registry",
            "core.splitting",
            "core.problem",
            "core.trace",
            "core.algorithm",
            "core.run_spec",
            "core.certificate",
            "core.session",
            "core.summary",
            "core.movie",
            "core.objective_readouts",
        ),
    ),
    ("core modules", ("core.modules", "core.modules.*")),
    ("core tasks", ("core.tasks", "core.tasks.*")),
    ("core runs", ("core", "core.memory", "core.speed", "core.outputs")),
    ("core study", ("core.study", "core.study.*")),
    ("core cli", ("core.cli", "core.cli_help")),
    (
        "gui support",
        (
            "gui",
            "gui.settings",
            "gui.recent_files",
            "gui.busy",
            "gui.display",
            "gui.refresh_budget",
            "gui.splash",
            "gui.garbage_collection",
        ),
    ),
    ("gui state", ("gui.state", "gui.state.*")),
    ("gui views", ("gui.views", "gui.views.*", "gui.actions")),
    ("gui run", ("gui.run", "gui.run.*")),
    (
        "gui windows",
        (
            "gui.dialogs",
            "gui.dialogs.*",
            "gui.study",
            "gui.study.*",
            "gui.export",
            "gui.window_files",
            "gui.run_checks",
        ),
    ),
    ("gui main window", ("gui.main_window", "gui.window_layout")),
    ("gui app", ("gui.app", "gui.scripted", "gui.__main__")),
)


def _sources() -> dict[str, Path]:
    """Every module of the packages, by dotted name (a package by its own name)."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """``name`` or its longest prefix that is one of ``modules`` (``core.x.attr`` → ``core.x``)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def _imported_names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules):
    """The dotted names an import statement in ``module`` brings in."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".")
        base = base if is_package else base[:-1]
        base = base[: len(base) - (node.level - 1)]
        origin = ".".join([*base, *([node.module] if node.module else [])])
    else:
        origin = node.module or ""
    return [  # a submodule itself, else what the module named defines
        f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin
        for alias in node.names
    ]


def _loaded(target: str, importer: str, modules: dict[str, Path]) -> set[str]:
    """``target`` and the packages above it that importing it runs (the importer's own excluded)."""
    parts = target.split(".")
    loaded = set()
    for n in range(1, len(parts) + 1):
        name = ".".join(parts[:n])
        if name in modules and name != importer and not importer.startswith(name + "."):
            loaded.add(name)
    return loaded


def import_graph() -> dict[str, set[str]]:
    """Module → the modules of the packages it imports, anywhere in its file."""
    modules = _sources()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for name in _imported_names(node, module, is_package, modules):
                target = _known(name, modules)
                if target is not None:
                    targets |= _loaded(target, module, modules)
        graph[module] = targets
    return graph


def floor_of(module: str) -> int | None:
    """The index of ``module``'s floor in :data:`FLOORS` (None: on none of them)."""
    for index, (_, patterns) in enumerate(FLOORS):
        for pattern in patterns:
            if module == pattern or (pattern.endswith(".*") and module.startswith(pattern[:-1])):
                return index
    return None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with a cycle (Tarjan), each as one cycle's modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def cycle_path(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One closed path through ``component``: ``a → b → … → a``."""
    members, start = set(component), component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:  # breadth first: the shortest way back to start
        node = queue.pop(0)
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    return component


def test_the_graph_sees_relative_and_package_imports():
    graph = import_graph()
    assert "gui.settings" in graph["gui.main_window"]  # from . import settings
    assert "core" not in graph["core.priors"]  # from . import wavelets: the submodule only
    assert "core.errors" in graph["core.cli"]  # from .errors import …
    assert "core.algorithm" in graph["core"]  # the package's __init__
    assert "gui.main_window" not in graph["gui.settings"]


def test_the_graph_sees_deferred_type_checking_and_package_imports():
    graph = import_graph()
    assert "core.study.cli" in graph["core.cli"]  # inside a function
    assert "core.tasks" in graph["core.memory"]  # under if TYPE_CHECKING
    assert {"core.modules", "core.modules.base"} <= graph["core.tasks.streaks"]  # runs __init__
    assert "core.tasks" not in graph["core.tasks.base"]  # its own package: already loading


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycles(package):
    graph = import_graph()
    new = [
        c
        for c in cycles(graph)
        if frozenset(c) not in KNOWN_CYCLES and any(_in(m, package) for m in c)
    ]
    paths = "\n".join(" → ".join(cycle_path(graph, c)) for c in new)
    assert not new, f"import cycles:\n{paths}"


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_is_on_a_floor(package):
    unplaced = [m for m in import_graph() if _in(m, package) and floor_of(m) is None]
    assert not unplaced, f"put these on a floor (FLOORS in tests/test_structure.py): {unplaced}"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_goes_up_a_floor(package):
    graph = import_graph()
    upward = []
    for module, targets in sorted(graph.items()):
        low = floor_of(module)
        if not _in(module, package) or low is None:
            continue
        for target in sorted(targets):
            high = floor_of(target)
            if high is not None and high > low:
                upward.append(f"{module} ({FLOORS[low][0]}) → {target} ({FLOORS[high][0]})")
    assert not upward, "imports up a floor:\n" + "\n".join(upward)


def test_no_file_in_core_or_gui_over_500_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for path in _sources().values()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"files over {MAX_LINES} lines: {long}"


def test_the_run_controller_imports_no_view():
    """Issue 30: the controller writes the state only; the views bind to it (none is imported)."""
    graph = import_graph()
    run_modules = [m for m in graph if m == "gui.run" or m.startswith("gui.run.")]
    assert "gui.run.controller" in run_modules
    for module in run_modules:
        views = sorted(m for m in graph[module] if m == "gui.views" or m.startswith("gui.views."))
        assert not views, f"{module} imports {views}"
