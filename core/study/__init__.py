"""Studies: a spec's grid (images × variants × axes) → cells → backends → ``DIR/study.db``.

Qt-free. ``fima study run|show|export|plot`` is the command line (:mod:`core.study.cli`);
:func:`run_study` drives a study from Python::

    from core.study import load_spec, run_study, LocalBackend
    report = run_study(load_spec("sweep.toml"), "out/sweep", LocalBackend(workers=2))
"""

from __future__ import annotations

from .backends import LocalBackend, RayBackend, SerialBackend, make_backend
from .cells import METRICS, run_cell
from .runner import StudyRun, run_study
from .spec import StudySpec, load_spec, parse_spec
from .store import StudyStore

__all__ = [
    "METRICS",
    "LocalBackend",
    "RayBackend",
    "SerialBackend",
    "StudyRun",
    "StudySpec",
    "StudyStore",
    "load_spec",
    "make_backend",
    "parse_spec",
    "run_cell",
    "run_study",
]
