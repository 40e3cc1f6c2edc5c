"""One-line summaries of exceptions, for the messages the command line, studies and window show.

:class:`core.io.InputError` (bad input from a user: exit status 2, one line) stays in
:mod:`core.io`; this module imports nothing from the engine so that any module may use it.
"""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message, or its type name."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


def one_line(exc: BaseException) -> str:
    """``Type: first line`` of an exception's message, or its type name alone when it has none."""
    text = first_line(exc) if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
