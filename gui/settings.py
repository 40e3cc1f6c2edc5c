"""What the explorer remembers across launches (QSettings): memory budget, last folder, exports.

Exports go by default into a new folder ``fima-<task>-<yyyymmdd-hhmmss>`` inside the folder the
last export went into (the first time: the user's Documents folder, else home — never the folder
the explorer was started in).

Also the window's layout (size, dock, splitters) and colormap, under ``window/*`` and
``view/colormap``. Every reader tolerates a missing or corrupted value and falls back to the default.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QMainWindow, QSplitter

from core.history import DEFAULT_BUDGET

BUDGET_KEY = "history/budgetMB"
LAST_FOLDER_KEY = "paths/lastFolder"
EXPORT_FOLDER_KEY = "paths/exportFolder"
AUTO_EXPORT_NAME = re.compile(r"fima-[\w.-]+-\d{8}-\d{6}")  # a default export folder's name
EXPORT_ITEMS_KEY = "export/items"
PLOT_WIDTH_KEY = "export/plotWidth"
MOVIE_FRAMES_KEY = "export/movieFrames"

DEFAULT_BUDGET_MB = DEFAULT_BUDGET // 2**20
BUDGET_RANGE_MB = (16, 1 << 20)  # 16 MB … 1 TB
PLOT_WIDTH_RANGE = (200, 8000)
MOVIE_FRAMES_RANGE = (2, 1000)
DEFAULT_PLOT_WIDTH = 1600
DEFAULT_MOVIE_FRAMES = 40


def _int(key: str, default: int, bounds: tuple[int, int]) -> int:
    value = QSettings().value(key, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if bounds[0] <= number <= bounds[1] else default


def budget_mb() -> int:
    """The iterate-history memory budget in MB (default 512)."""
    return _int(BUDGET_KEY, DEFAULT_BUDGET_MB, BUDGET_RANGE_MB)


def set_budget_mb(megabytes: int) -> None:
    """Remember the iterate-history memory budget (MB)."""
    QSettings().setValue(BUDGET_KEY, int(megabytes))


def last_folder() -> str:
    """The folder a file dialog opened last (home if none or gone)."""
    value = QSettings().value(LAST_FOLDER_KEY, "")
    if isinstance(value, str) and value and Path(value).is_dir():
        return value
    return str(Path.home())


def remember_folder(path: str | Path) -> None:
    """Remember the folder of ``path`` (or ``path`` itself when it is a folder)."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    QSettings().setValue(LAST_FOLDER_KEY, str(folder.resolve()))


def documents_folder() -> Path:
    """The user's Documents folder (home when the platform has none)."""
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(location) if location and Path(location).is_dir() else Path.home()


def export_parent() -> Path:
    """The folder new exports go into: the last export's (Documents or home at first, or when
    that folder is gone)."""
    value = QSettings().value(EXPORT_FOLDER_KEY, "")
    if isinstance(value, str) and value and Path(value).is_dir():
        return Path(value)
    return documents_folder()


def default_export_folder(task: str, now: float | None = None) -> str:
    """A new folder for an export: ``<export_parent>/fima-<task>-<yyyymmdd-hhmmss>``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return str(export_parent() / f"fima-{task}-{stamp}")


def remember_export_folder(folder: str | Path) -> None:
    """Remember where an export went: the folder holding it when it has a default name
    (the next export goes beside it), else the folder itself (the next goes inside it)."""
    folder = Path(folder).resolve()
    parent = folder.parent if AUTO_EXPORT_NAME.fullmatch(folder.name) else folder
    QSettings().setValue(EXPORT_FOLDER_KEY, str(parent))


def plot_width() -> int:
    """Width in pixels of exported plot images."""
    return _int(PLOT_WIDTH_KEY, DEFAULT_PLOT_WIDTH, PLOT_WIDTH_RANGE)


def movie_frames() -> int:
    """Most frames an exported iterate movie has."""
    return _int(MOVIE_FRAMES_KEY, DEFAULT_MOVIE_FRAMES, MOVIE_FRAMES_RANGE)


def export_items(default: tuple[str, ...]) -> set[str]:
    """The export items ticked last time (``default`` when never set)."""
    value = QSettings().value(EXPORT_ITEMS_KEY, None)
    if value is None:
        return set(default)
    if isinstance(value, str):  # QSettings returns a lone string for one-element lists
        value = [value] if value else []
    return {v for v in value if isinstance(v, str) and v in default}


def remember_export(items: set[str], width: int, frames: int) -> None:
    """Remember the Export dialog's choices."""
    settings = QSettings()
    settings.setValue(EXPORT_ITEMS_KEY, sorted(items))
    settings.setValue(PLOT_WIDTH_KEY, int(width))
    settings.setValue(MOVIE_FRAMES_KEY, int(frames))


def restore_layout(window: QMainWindow, splitters: dict[str, QSplitter]) -> None:
    """Give a new window the geometry, docks and splitter positions it had when last closed."""
    stored = QSettings()
    restores = [("window/geometry", window.restoreGeometry), ("window/state", window.restoreState)]
    restores += [(f"window/{name}", splitter.restoreState) for name, splitter in splitters.items()]
    for key, restore in restores:
        value = stored.value(key)
        if value is not None:
            restore(value)


def save_layout(window: QMainWindow, splitters: dict[str, QSplitter]) -> None:
    """Remember a closing window's geometry, docks and splitter positions."""
    stored = QSettings()
    stored.setValue("window/geometry", window.saveGeometry())
    stored.setValue("window/state", window.saveState())
    for name, splitter in splitters.items():
        stored.setValue(f"window/{name}", splitter.saveState())


def colormap() -> str:
    """The image colormap last used (``gray`` at first)."""
    value = QSettings().value("view/colormap", "gray")
    return value if isinstance(value, str) else "gray"


def remember_colormap(name: str) -> None:
    """Remember the image colormap."""
    QSettings().setValue("view/colormap", name)
