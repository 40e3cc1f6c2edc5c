"""Applications: each module declares itself in a :class:`TaskDescription` (``DESCRIPTION``) and
builds a :class:`TaskSetup` (problem, default module and parameters).

``build_task("deblur", image=None, kernel="levin:4", noise=0.01, ...)`` — ``image`` None means the
task's bundled sample; options are checked against the description and its defaults fill in the
rest. Every option is recorded in ``setup.settings`` so a session can rebuild it.
"""

from __future__ import annotations

from ..modules import default_module_name
from .base import TaskSetup, build_task, describe_task, task_names
from .description import TaskDescription, TaskOption

__all__ = [
    "TaskDescription",
    "TaskOption",
    "TaskSetup",
    "build_task",
    "default_module_name",
    "describe_task",
    "task_names",
]
