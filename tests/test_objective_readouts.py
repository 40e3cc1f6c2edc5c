"""core.objective_readouts: L as λ and σ of a learned prior move, Prox-PnP's λ = 1/γ, and the
sentence on what Ψ holds — the engine's facts the explorer shows (no Qt)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from core import Parameters
from core.objective_readouts import (
    denoiser_lipschitz,
    learned_lipschitz,
    linked_changes,
    lipschitz_at,
    objective_note,
    proximal_lipschitz,
)


class _LearnedPrior:
    """A stand-in prior with L_g(σ) = 10 σ (its own σ 0.1), estimated unless ``broken``."""

    def __init__(self, smooth: bool, weight_from_step: bool, broken: bool = False) -> None:
        self.smooth, self.weight_from_step, self.broken = smooth, weight_from_step, broken
        self.sigma = 0.1

    def lipschitz(self, sigma: float | None = None) -> float:
        if self.broken:
            raise RuntimeError("power iteration failed")
        return 10 * (self.sigma if sigma is None else sigma)


def _problem(prior) -> SimpleNamespace:
    return SimpleNamespace(prior=prior, lipschitz=3.0)


HAND_MADE = SimpleNamespace(smooth=False, weight_from_step=False)


def test_a_hand_made_prior_has_no_learned_readouts():
    problem = _problem(HAND_MADE)
    assert learned_lipschitz(problem) is None and proximal_lipschitz(problem) is None
    assert lipschitz_at(problem, Parameters(lam=5.0)) == 3.0
    assert denoiser_lipschitz(problem, Parameters()) is None
    assert objective_note(problem) == ""
    assert linked_changes(problem, {"gamma": 0.5}) == {"gamma": 0.5}


def test_the_learned_smooth_prior_gives_l_as_lambda_times_l_g():
    problem = _problem(_LearnedPrior(smooth=True, weight_from_step=False))
    assert learned_lipschitz(problem)(2.0, 0.2) == pytest.approx(4.0)
    assert lipschitz_at(problem, Parameters(lam=2.0, sigma_g=0.0)) == pytest.approx(2.0)  # own σ
    assert lipschitz_at(problem, Parameters(lam=2.0, sigma_g=0.3)) == pytest.approx(6.0)
    assert "λ g_σ" in objective_note(problem) and "ESTIMATED" in objective_note(problem)
    assert linked_changes(problem, {"gamma": 0.5}) == {"gamma": 0.5}  # λ stays the user's
    broken = _problem(_LearnedPrior(smooth=True, weight_from_step=False, broken=True))
    assert lipschitz_at(broken, Parameters(lam=2.0)) == 3.0  # the estimate failed: the problem's L


def test_prox_pnp_ties_lambda_to_gamma_and_reads_l_g_of_the_denoiser():
    problem = _problem(_LearnedPrior(smooth=False, weight_from_step=True))
    assert linked_changes(problem, {"gamma": 0.5}) == {"gamma": 0.5, "lam": 2.0}
    assert linked_changes(problem, {"C": 0.1}) == {"C": 0.1}
    assert lipschitz_at(problem, Parameters()) == 3.0  # L = L_f
    assert denoiser_lipschitz(problem, Parameters(sigma_g=0.05)) == pytest.approx(0.5)
    assert "Prox-PnP" in objective_note(problem) and "λ = 1/γ" in objective_note(problem)
    broken = _problem(_LearnedPrior(smooth=False, weight_from_step=True, broken=True))
    assert denoiser_lipschitz(broken, Parameters()) is None
