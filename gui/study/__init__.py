"""The explorer's Study window: a study's heatmap, filling in live while it runs; cells open as runs."""

from __future__ import annotations

from .study_link import StudyLink
from .study_runner import StudyRunner
from .study_window import StudyWindow

__all__ = ["StudyLink", "StudyRunner", "StudyWindow"]
