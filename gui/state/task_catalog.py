"""What the explorer reads about a task: its :class:`core.tasks.TaskDescription`, and the options
(with defaults) that description declares — nothing is read from a builder's signature."""

from __future__ import annotations

from functools import cache

from core.tasks import TaskDescription, describe_task
from core.tasks.description import COMMON_OPTIONS


@cache
def task_description(task: str) -> TaskDescription | None:
    """Task ``task``'s description, or None when it cannot be read (the window stays up)."""
    try:
        return describe_task(task)
    except Exception:  # a task still being written must not take the window down
        return None


@cache
def task_options(task: str) -> dict[str, object]:
    """The options task ``task`` takes, with their defaults: its own, then module, prior and
    device (None: the task decides)."""
    description = task_description(task)
    if description is None:
        return {}
    return {**description.defaults(), **dict.fromkeys(COMMON_OPTIONS)}
