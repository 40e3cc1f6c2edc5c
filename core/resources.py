"""Where the bundled files live: the ``resources`` package's folder, found through importlib.resources.

``resources/`` (sample images, Levin kernels, trained weights) is installed with the package as
package data, so the same lookup works from a source checkout, an editable install and a wheel
installed anywhere. Every lookup of a bundled file goes through :func:`resources_dir`; no code builds
a path from its own ``__file__``.
"""

from __future__ import annotations

import importlib.resources
from functools import cache
from pathlib import Path

PACKAGE = "resources"


@cache
def resources_dir() -> Path:
    """The installed ``resources`` folder (samples/, kernels/, weights/)."""
    try:
        root = importlib.resources.files(PACKAGE)
    except ModuleNotFoundError as exc:  # a broken install: say what is missing
        raise RuntimeError(
            "the bundled resources are not installed (package 'resources' is missing); "
            "reinstall fima-explorer"
        ) from exc
    if not isinstance(root, Path):  # e.g. run from a zip archive: files need a real folder
        raise RuntimeError(f"the bundled resources must be installed as files, found {root!r}")
    return root


def resource_path(*parts: str) -> Path:
    """A bundled file or folder, e.g. ``resource_path("weights", "cnn.pt")`` (it may not exist)."""
    return resources_dir().joinpath(*parts)
