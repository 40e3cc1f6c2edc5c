"""Display arrays: what the views show of an image tensor, as a copy they may keep.

:func:`core.io.tensor_to_array` turns a (1, C, H, W) tensor into (H, W) or (H, W, C); a view gets a
float32, C-contiguous copy of it (pyqtgraph's ImageItem wants that, and the tensor may change).
"""

from __future__ import annotations

import numpy as np
import torch

from core.io import tensor_to_array


def to_display_array(x: torch.Tensor | None) -> np.ndarray | None:
    """(1, C, H, W) tensor → (H, W) or (H, W, C) float32 C-contiguous numpy copy (None → None)."""
    if x is None:
        return None
    return np.array(tensor_to_array(x), dtype=np.float32, order="C", copy=True)
