"""Applications: each module builds a :class:`TaskSetup` (problem, default module and parameters).

``build_task("deblur", image=None, kernel="levin:4", noise=0.01, ...)`` — ``image`` None means the
task's bundled sample. Every option is recorded in ``setup.settings`` so a session can rebuild it.
"""

from __future__ import annotations

from .base import TaskSetup, build_task, default_module_name, task_names

__all__ = ["TaskSetup", "build_task", "default_module_name", "task_names"]
