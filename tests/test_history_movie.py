"""History under a memory budget, and GIF movies with the iteration burnt in."""

import numpy as np
import pytest

from core.history import IterateHistory
from core.movie import write_movie


def test_everything_is_kept_under_budget_and_read_back_equal():
    h = IterateHistory(budget_bytes=10 * 64 * 64 * 4)
    frames = {k: np.full((64, 64), k, np.float32) for k in range(8)}
    for k, f in frames.items():
        h.add("fima", k, f)
    assert h.iterations("fima") == list(range(8))
    k, img = h.get("fima", 3)
    assert k == 3 and np.array_equal(img, frames[3])


def test_budget_respected_after_2000_iterations_on_256():
    frame_bytes = 256 * 256 * 4
    budget = 40 * frame_bytes
    h = IterateHistory(budget_bytes=budget)
    for k in range(2000):
        h.add("fima", k, np.full((256, 256), k, np.float32))
        h.add("pg", k, np.full((256, 256), -k, np.float32))
        assert h.stored_bytes <= budget + 2 * frame_bytes
    kept = h.iterations("fima")
    assert kept[0] == 0 and kept[-1] == 1999
    gaps = np.diff(kept[:-1])
    assert len(set(gaps)) == 1  # thinned evenly
    k, img = h.get("fima", 1000)
    assert k <= 1000 and img[0, 0] == k
    assert h.stored_bytes == sum(
        h.get(v, kk)[1].nbytes for v in ("fima", "pg") for kk in h.iterations(v)
    )


def test_gif_has_one_frame_per_item(tmp_path):
    import imageio.v3 as iio

    items = [(k, np.random.default_rng(k).random((40, 50)).astype(np.float32)) for k in range(6)]
    path = tmp_path / "m.gif"
    write_movie(path, items)
    frames = iio.imread(path, index=None)
    assert frames.shape[0] == 6 and frames.shape[1:3] == (40, 50)
    with pytest.raises(ValueError, match="not supported"):
        write_movie(tmp_path / "m.avi", items)
