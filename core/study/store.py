"""A study's store: ``DIR/study.db``, SQLite in WAL mode, written by the driver only.

Tables:

- ``cells``: ``id``, ``image``, ``variant``, one column per grid axis (named as in the spec),
  ``status`` (pending / running / done / failed), ``error``, and the metrics ``psnr``, ``ssim``,
  ``best_psnr``, ``accept_rate``, ``monotone``, ``objective``, ``iterations``, ``seconds``.
- ``iterations``: ``cell_id`` and the trace.csv columns (:data:`core.trace.COLUMNS`), one row per
  iteration of every finished cell.
- ``meta``: ``spec`` (the TOML text), ``canonical`` (what identifies the study), ``versions``,
  ``runs`` (one entry per ``fima study run``), ``task``, ``axes``.

A finished cell's metrics and rows are written in ONE transaction, so a ``kill -9`` leaves each cell
either finished or not; cells it leaves ``running`` are redone by the next run.
"""

from __future__ import annotations

import json
import platform
import sqlite3
import sys
import time
from pathlib import Path

from ..io import InputError
from ..trace import COLUMNS
from .cells import METRICS
from .spec import StudySpec

DB_NAME = "study.db"
STATUSES = ("pending", "running", "done", "failed")
FIXED_COLUMNS = ("id", "image", "variant")
RESULT_COLUMNS = ("status", "error", *METRICS)
_TRACE_TYPES = {
    "k": "INTEGER",
    "variant": "TEXT",
    "label": "TEXT",
    "reject_reason": "TEXT",
    "accepted": "INTEGER",
    "conditions_hold": "INTEGER",
    "diverged": "INTEGER",
}


def quote(name: str) -> str:
    """An SQL identifier in double quotes."""
    return '"' + name.replace('"', '""') + '"'


def versions() -> dict:
    """Versions of what produced the numbers: this package, Python, torch, numpy, the platform."""
    import numpy
    import torch

    from .. import __version__

    return {
        "fima-explorer": __version__,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
    }


def _axis_type(values) -> str:
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "INTEGER"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "REAL"
    if all(isinstance(v, str) for v in values):
        return "TEXT"
    return ""


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection in WAL mode with a generous busy timeout (readers never block the driver)."""
    con = sqlite3.connect(str(path), timeout=30.0, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA foreign_keys=ON")
    return con


class StudyStore:
    """The driver's handle on ``DIR/study.db``: create or resume, mark, record, read."""

    def __init__(self, con: sqlite3.Connection, path: Path):
        self.con = con
        self.path = path
        self.axes = tuple(json.loads(self.meta("axes") or "[]"))
        self._iteration_columns = tuple(
            row[1] for row in con.execute("PRAGMA table_info(iterations)") if row[1] != "cell_id"
        )

    # ---- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, folder: str | Path, spec: StudySpec) -> StudyStore:
        """Create the store for ``spec`` in ``folder``, or reopen it to resume the same study."""
        folder = Path(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create {folder}: {exc.strerror or exc}") from None
        path = folder / DB_NAME
        try:
            con = connect(path)
            exists = bool(
                con.execute("SELECT 1 FROM sqlite_master WHERE name = 'cells'").fetchone()
            )
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{path} is not a study database: {exc}") from None
        if not exists:
            _create(con, spec)
        store = cls(con, path)
        if exists and store.meta("canonical") != spec.canonical():
            con.close()
            raise InputError(
                f"{path} holds a different study (the spec changed): use another --out folder"
            )
        return store

    @classmethod
    def read(cls, folder: str | Path) -> StudyStore:
        """Open an existing store for reading (show, export, plot)."""
        path = Path(folder) / DB_NAME
        if not path.is_file():
            raise InputError(f"no study in {folder} ({DB_NAME} not found)")
        try:
            con = connect(path)
            if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'cells'").fetchone():
                raise InputError(f"{path} is not a study database (no cells table)")
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{path} is not a study database: {exc}") from None
        return cls(con, path)

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    # ---- meta ------------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        """A value of the ``meta`` table (None when absent)."""
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the ``meta`` table."""
        self.con.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def spec(self) -> StudySpec:
        """The stored spec, parsed again (not re-validated): ``spec.job(cell)`` rebuilds any run."""
        from .spec import parse_spec

        return parse_spec(self.meta("spec") or "", self.meta("base_dir") or ".", check=False)

    def add_run(self, **info) -> None:
        """Append one entry (backend, workers, start time, versions) to ``meta.runs``."""
        runs = json.loads(self.meta("runs") or "[]")
        runs.append({"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **info})
        self.set_meta("runs", json.dumps(runs))

    # ---- the driver's writes ---------------------------------------------------------------
    def todo(self, retry_failed: bool = False) -> list[int]:
        """Ids of the cells to run: pending and running (left by a killed study), and failed."""
        wanted = ("pending", "running", "failed") if retry_failed else ("pending", "running")
        marks = ",".join("?" * len(wanted))
        rows = self.con.execute(
            f"SELECT id FROM cells WHERE status IN ({marks}) ORDER BY id", wanted
        )
        return [row[0] for row in rows]

    def mark(self, ids: list[int], status: str) -> None:
        """Set the status of some cells (running when submitted, pending when given back)."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        with self._transaction():
            self.con.executemany(
                "UPDATE cells SET status = ? WHERE id = ?", [(status, i) for i in ids]
            )

    def record(self, result: dict) -> None:
        """Write one cell's result and its iterations, in one transaction (old rows replaced)."""
        cell = int(result["id"])
        columns = tuple(result.get("columns", COLUMNS))
        keep = [i for i, name in enumerate(columns) if name in self._iteration_columns]
        names = [columns[i] for i in keep]
        values = [result.get(name) for name in RESULT_COLUMNS]
        assignments = ", ".join(f"{quote(n)} = ?" for n in RESULT_COLUMNS)
        with self._transaction():
            self.con.execute("DELETE FROM iterations WHERE cell_id = ?", (cell,))
            self.con.execute(f"UPDATE cells SET {assignments} WHERE id = ?", (*values, cell))
            if names and result.get("rows"):
                marks = ",".join("?" * (len(names) + 1))
                self.con.executemany(
                    f"INSERT INTO iterations(cell_id, {', '.join(map(quote, names))}) "
                    f"VALUES ({marks})",
                    [(cell, *(row[i] for i in keep)) for row in result["rows"]],
                )

    def _transaction(self):
        return _Transaction(self.con)

    # ---- reading ---------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Number of cells by status (every status present, maybe 0)."""
        found = dict(self.con.execute("SELECT status, COUNT(*) FROM cells GROUP BY status"))
        return {status: int(found.get(status, 0)) for status in STATUSES}

    def columns(self) -> tuple[str, ...]:
        """Column names of the ``cells`` table, in order."""
        return tuple(row[1] for row in self.con.execute("PRAGMA table_info(cells)"))

    def rows(self, where: str = "", params: tuple = ()) -> list[dict]:
        """Cells as dicts (optionally filtered by an SQL ``where`` clause), by id."""
        cursor = self.con.execute(
            f"SELECT * FROM cells {'WHERE ' + where if where else ''} ORDER BY id", params
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def iteration_rows(self, cell: int) -> list[dict]:
        """One cell's per-iteration rows, by k."""
        cursor = self.con.execute("SELECT * FROM iterations WHERE cell_id = ? ORDER BY k", (cell,))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, con: sqlite3.Connection):
        self.con = con

    def __enter__(self):
        self.con.execute("BEGIN IMMEDIATE")
        return self.con

    def __exit__(self, kind, value, traceback):
        self.con.execute("COMMIT" if kind is None else "ROLLBACK")
        return False


def _create(con: sqlite3.Connection, spec: StudySpec) -> None:
    axes = [f"{quote(a.name)} {_axis_type(a.values)}".rstrip() for a in spec.axes]
    statuses = ", ".join(f"'{s}'" for s in STATUSES)
    metric_types = {"monotone": "INTEGER", "iterations": "INTEGER"}
    metrics = [f"{quote(m)} {metric_types.get(m, 'REAL')}" for m in METRICS]
    trace = [f"{quote(c)} {_TRACE_TYPES.get(c, 'REAL')}" for c in COLUMNS]
    cells = spec.cells()
    with _Transaction(con):
        con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        con.execute(
            "CREATE TABLE cells (id INTEGER PRIMARY KEY, image TEXT NOT NULL, "
            "variant TEXT NOT NULL, "
            + "".join(f"{column}, " for column in axes)
            + f"status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ({statuses})), "
            + "error TEXT, "
            + ", ".join(metrics)
            + ")"
        )
        con.execute(
            "CREATE TABLE iterations (cell_id INTEGER NOT NULL REFERENCES cells(id), "
            + ", ".join(trace)
            + ", PRIMARY KEY (cell_id, k))"
        )
        names = ["id", "image", "variant", *spec.axis_names]
        marks = ",".join("?" * len(names))
        con.executemany(
            f"INSERT INTO cells({', '.join(map(quote, names))}) VALUES ({marks})",
            [(c.id, c.image, c.variant, *(c.values[a] for a in spec.axis_names)) for c in cells],
        )
        meta = {
            "spec": spec.source,
            "canonical": spec.canonical(),
            "task": spec.task,
            "axes": json.dumps(list(spec.axis_names)),
            "scales": json.dumps({a.name: a.scale for a in spec.axes}),
            "base_dir": str(spec.base_dir),
            "versions": json.dumps(versions()),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        con.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", list(meta.items()))
