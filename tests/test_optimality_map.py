"""The optimality-error map |d| per pixel: the engine's own d (‖map‖ = the trace's residual) on
every task, made only when asked for, absent where no proposal was judged."""

import math

import pytest
import torch

from core.algorithm import iterate, run
from core.check import optimality_map
from core.precision import exact_float32
from core.tasks import build_task

from .helpers import Hostile, deblur_problem, good_module, params, random_module

TASKS = ("deblur", "denoise", "mri", "smooth", "lowlight", "derain")


def recomputed_d(problem, record) -> torch.Tensor:
    """d = (1/γ − μ)(u − ũ) + ∇s(ũ) − ∇s(u), from the record's u and ũ (step 4, by hand)."""
    smooth = problem.splitting.smooth
    with exact_float32():
        grad_u = smooth.evaluate(record.u).gradient
        grad_tilde = smooth.evaluate(record.u_tilde).gradient
    scale = 1.0 / record.gamma - record.mu
    return scale * (record.u - record.u_tilde) + grad_tilde - grad_u


@pytest.mark.parametrize("task", TASKS)
def test_the_map_is_the_engines_d_on_every_task(task, device):
    setup = build_task(task, downscale=4, device=device)
    problem = setup.problem
    for variant in ("fima", "unchecked"):
        records = run(
            problem, setup.module, setup.parameters, variant, 3, compute_metrics=False, d_maps=True
        )
        judged = [r for r in records if r.d_map is not None]
        assert judged, f"{task}/{variant}: no proposal was judged"
        for record in records:
            if record.d_map is None:
                assert record.skipped or record.reject_reason.startswith(("module", "non-finite"))
                continue
            d_map = record.d_map
            assert d_map.shape == problem.x0.shape[-2:] and bool((d_map >= 0).all())
            norm = float(torch.linalg.vector_norm(d_map.double()))
            assert norm == pytest.approx(record.residual, rel=1e-5, abs=1e-7)
        first = judged[0]
        by_hand = optimality_map(recomputed_d(problem, first))
        scale = float(first.d_map.max())
        torch.testing.assert_close(first.d_map, by_hand, rtol=1e-4, atol=1e-4 * scale)


def test_colour_channels_are_combined_as_the_root_of_their_squares():
    d = torch.tensor([[[[3.0, 0.0]], [[4.0, -1.0]]]])  # (1, 2, 1, 2)
    torch.testing.assert_close(optimality_map(d), torch.tensor([[5.0, 1.0]]))
    plain = torch.tensor([[-2.0, 1.0]])
    torch.testing.assert_close(optimality_map(plain), torch.tensor([[2.0, 1.0]]))
    assert float(torch.linalg.vector_norm(optimality_map(d))) == pytest.approx(float(d.norm()))


def test_maps_are_made_only_when_asked_and_change_nothing(device):
    problem, module = deblur_problem(device=device), good_module()
    plain = run(problem, module, params(), "fima", 6, propose="always")
    mapped = run(problem, module, params(), "fima", 6, propose="always", d_maps=True)
    assert all(r.d_map is None for r in plain)
    assert all(r.d_map is not None for r in mapped)
    for a, b in zip(plain, mapped, strict=True):
        assert a.row() | {"seconds": 0} == b.row() | {"seconds": 0}
        assert torch.equal(a.x, b.x)


def test_no_map_without_a_judged_proposal(device):
    problem = deblur_problem(device=device)
    for variant in ("naive", "pg"):
        records = run(problem, good_module(), params(), variant, 3, d_maps=True)
        assert all(r.d_map is None for r in records)
    adaptive = list(
        iterate(
            problem,
            random_module(),
            params(),
            "fima",
            max_iter=30,
            propose="adaptive",
            d_maps=True,
        )
    )
    skipped = [r for r in adaptive if r.skipped]
    assert skipped and all(r.d_map is None and math.isnan(r.residual) for r in skipped)
    assert all(r.d_map is not None for r in adaptive if not r.skipped)
    failed = run(problem, Hostile("raise"), params(), "fima", 2, d_maps=True)
    assert all(r.d_map is None and r.reject_reason.startswith("module") for r in failed)
