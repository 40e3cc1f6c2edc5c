"""What a user does with the explorer's combo boxes, for the GUI tests (pick, then 'activated')."""

from __future__ import annotations


def choose(combo, data: str, what: str = "") -> None:
    """Pick the entry whose data is ``data``, as a user does (fails if it is not offered)."""
    index = combo.findData(data)
    assert index >= 0, f"{data} is not offered{what}"
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def choose_task(window, task: str) -> None:
    """Pick ``task`` in the task selector."""
    combo = window.problem_panel.task_combo
    combo.setCurrentIndex(combo.findText(task))
    combo.activated.emit(combo.currentIndex())


def choose_module(window, name: str) -> None:
    """Pick module ``name`` in the module list."""
    choose(window.solver_panel.module_combo, name)


def choose_prior(window, key: str) -> None:
    """Pick prior ``key`` in the prior list."""
    choose(window.solver_panel.prior_combo, key, f" for {window.spec.task}")
