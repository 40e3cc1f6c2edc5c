"""Opening a study's cell as a run: the :class:`~core.session.Session` that replays it.

A cell ran ``build_task(task, image, **options)`` with the task's parameters changed by the cell's
overrides and one variant for the spec's iterations (:func:`core.study.cells.compute_cell`). The
session built here records exactly that, so ``fima run --session`` (or the explorer) gives the
same trace. The cell's image, variant and axis values are read from the ``cells`` table (what the
cell really ran), the rest of its job from the stored spec.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import first_line, one_line
from ..io import InputError
from ..run_spec import parse_run_spec
from ..session import Session
from .plot import Heatmap, _same
from .spec import Cell
from .store import StudyStore


def _cell_id(cell_id) -> int:
    """A cell id from an int or its text (``"5"``, ``"#5"``); InputError otherwise."""
    if isinstance(cell_id, int) and not isinstance(cell_id, bool):
        return cell_id
    text = cell_id.strip().lstrip("#") if isinstance(cell_id, str) else ""
    if not text.isdigit():
        raise InputError(f"a cell id is a whole number, got {cell_id!r}")
    return int(text)


def stored_cell(store: StudyStore, cell_id: int) -> Cell:
    """The cell ``cell_id`` as the ``cells`` table holds it (InputError when there is none)."""
    rows = store.rows("id = ?", (int(cell_id),))
    if not rows:
        total = store.con.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
        raise InputError(
            f"study {store.path.parent} has no cell #{cell_id} (its cells are #1 to #{total})"
        )
    row = rows[0]
    return Cell(row["id"], row["image"], row["variant"], {a: row[a] for a in store.axes})


def cell_session(folder: str | Path, cell_id: int) -> Session:
    """The session that replays cell ``cell_id`` of the study in ``folder`` (InputError if bad)."""
    from ..tasks import build_task

    number = _cell_id(cell_id)
    store = StudyStore.read(folder)
    try:
        cell = stored_cell(store, number)
        try:
            spec = store.spec()
        except InputError as exc:
            raise InputError(f"cannot replay cell #{number}: {first_line(exc)}") from None
    finally:
        store.close()
    job = spec.job(cell)
    try:
        setup = build_task(job["task"], job["image"], **job["options"])
        run = parse_run_spec(job.get("label") or job["variant"])  # its own parameters, if any
        shared = {k: v for k, v in job["overrides"].items() if k not in run.overrides}
        parameters = setup.parameters.with_changes(**shared)
    except InputError as exc:
        raise InputError(f"cannot replay cell #{number}: {first_line(exc)}") from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"cannot replay cell #{number}: {one_line(exc)}") from None
    return Session(
        dict(setup.settings),
        parameters,
        {},
        [job["variant"]],
        max(int(job["iterations"]), 1),
        job["propose"],
        [run] if run.overrides else [],
    )


def pixel_cells(store: StudyStore, heat: Heatmap, i: int, j: int, done: bool = True) -> list[dict]:
    """The cells (rows, by id) averaged into ``heat.values[i, j]``: y = ys[i], x = xs[j], where."""
    if not (0 <= i < len(heat.ys) and 0 <= j < len(heat.xs)):
        return []
    wanted = {heat.y: heat.ys[i], heat.x: heat.xs[j], **heat.where}
    rows = store.rows("status = 'done'" if done else "")
    return [r for r in rows if all(_same(r.get(k), v) for k, v in wanted.items())]
