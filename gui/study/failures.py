"""How the Study window words a failure, in one line: the user's mistake (:class:`InputError`) as
its own first line, anything else — a damaged database, a vanished folder — as what could not be
done and why (``Cannot open the cell: OperationalError: …``); the window stays usable."""

from __future__ import annotations

from core.errors import first_line, one_line
from core.io import InputError


def failure_text(exc: BaseException, doing: str = "") -> str:
    """One line for ``exc`` raised while ``doing`` ("Cannot open the cell"; "" for none)."""
    if isinstance(exc, InputError):
        return first_line(exc)
    return f"{doing}: {one_line(exc)}" if doing else one_line(exc)
