"""Recently opened image files, remembered across sessions in QSettings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

KEY = "recentFiles"
MAX_RECENT = 10


class RecentFiles:
    """A most-recent-first list of paths stored under QSettings key ``recentFiles``."""

    def __init__(self, key: str = KEY, limit: int = MAX_RECENT) -> None:
        self._key = key
        self._limit = limit

    def paths(self) -> list[str]:
        """Remembered paths that still exist, most recent first."""
        value = QSettings().value(self._key, [])
        if isinstance(value, str):  # QSettings returns a lone string for one-element lists
            value = [value]
        return [p for p in (value or []) if isinstance(p, str) and Path(p).is_file()]

    def add(self, path: str | Path) -> None:
        """Put ``path`` first."""
        path = str(Path(path).resolve())
        paths = [path, *(p for p in self.paths() if p != path)][: self._limit]
        QSettings().setValue(self._key, paths)

    def clear(self) -> None:
        """Forget every path."""
        QSettings().remove(self._key)
