"""The GUI's layers, counting every import — inside functions and under ``TYPE_CHECKING`` too: no
import circle in gui, the views and the state never reach up into the run or the window, the run
controller knows nothing of the window, core never imports Qt, and the window stays a composition."""

from __future__ import annotations

import ast

from tests.test_structure import ROOT, _known, _sources, cycle_path, cycles

MAIN_WINDOW_MAX_LINES = (
    400  # 380 since the unsaved-run questions (issue 30); move them out when it grows
)
ABOVE_THE_VIEWS = ("gui.run", "gui.main_window", "gui.window_files", "gui.scripted", "gui.app")


def every_import_graph(package: str = "gui") -> dict[str, set[str]]:
    """Module → the modules of core and gui it imports anywhere in its source."""
    modules = _sources()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        if not module.startswith(package):
            continue
        base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                origin = node.module or ""
                if node.level:
                    parts = base[: len(base) - (node.level - 1)]
                    origin = ".".join([*parts, *([node.module] if node.module else [])])
                names = [
                    f"{origin}.{a.name}" if f"{origin}.{a.name}" in modules else origin
                    for a in node.names
                ]
            else:
                continue
            targets |= {t for n in names if (t := _known(n, modules)) and t != module}
        graph[module] = targets
    return graph


def test_no_import_circle_in_gui_counting_every_import():
    graph = every_import_graph()
    gui_only = {m: {t for t in ts if t.startswith("gui")} for m, ts in graph.items()}
    found = cycles(gui_only)
    assert not found, "\n".join(" → ".join(cycle_path(gui_only, c)) for c in found)


def test_the_views_and_the_state_never_import_the_run_or_the_window():
    graph = every_import_graph()
    upward = {
        f"{m} → {t}"
        for m, targets in graph.items()
        if m.startswith(("gui.views", "gui.state", "gui.dialogs"))
        for t in targets
        if t.startswith(ABOVE_THE_VIEWS)
    }
    assert not upward, sorted(upward)


def test_the_run_controller_never_imports_or_touches_the_window():
    imported = every_import_graph()["gui.run.controller"]
    assert not imported & {"gui.main_window", "gui.window_files", "gui.scripted", "gui.app"}
    source = (ROOT / "gui" / "run" / "controller.py").read_text()
    assert "MainWindow" not in source and "self.window" not in source


def test_core_never_imports_qt():
    qt = set()
    for module, path in _sources().items():
        if module.startswith("core"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                qt |= {module for n in names if n.split(".")[0] in ("PySide6", "pyqtgraph")}
    assert not qt, sorted(qt)


def test_the_main_window_stays_a_short_composition():
    lines = len((ROOT / "gui" / "main_window.py").read_text().splitlines())
    assert lines <= MAIN_WINDOW_MAX_LINES
    source = (ROOT / "gui" / "main_window.py").read_text()
    assert "class MainWindow(QMainWindow)" in source  # no mixin: the files part is composed
