"""Minimal Qt-free events: a named notification with a list of callbacks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Callback = Callable[[Any], None]


class Event:
    """One kind of notification; ``emit(value)`` calls every connected callback with ``value``.

    Callbacks run synchronously in the emitting thread: the explorer's state is changed only
    from the GUI thread, so its listeners (widgets) are always called there.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callback] = []

    def connect(self, callback: Callback) -> Callback:
        """Call ``callback(value)`` on every emit (connecting twice is harmless)."""
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callback) -> None:
        """Stop calling ``callback``."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, value: Any = None) -> None:
        """Notify every listener of ``value``."""
        for callback in list(self._callbacks):
            callback(value)

    def __len__(self) -> int:
        return len(self._callbacks)


class EventGroup:
    """Named events as attributes: ``EventGroup("problem", "status").status.connect(f)``."""

    def __init__(self, *names: str) -> None:
        self._names = names
        for name in names:
            setattr(self, name, Event(name))

    def names(self) -> tuple[str, ...]:
        """The events of this group."""
        return self._names
