"""The fidelity f(x; T, y) = ½‖T x − y‖²: value, gradient ∇f = Tᵀ(T x − y), L = ‖T‖², prox."""

from __future__ import annotations

import torch

from .operators import LinearOperator

Tensor = torch.Tensor


class LeastSquares:
    """f(x) = ½‖T x − y‖², smooth with L-Lipschitz gradient, L = ‖T‖²."""

    def __init__(self, operator: LinearOperator, observation: Tensor):
        self.operator = operator
        self.observation = observation
        self._lipschitz: float | None = None
        self._adjoint_observation: Tensor | None = None

    def value(self, x: Tensor) -> float:
        """f(x) = ½‖T x − y‖²."""
        return self.residual(x)[0]

    def value_and_gradient(self, x: Tensor) -> tuple[float, Tensor]:
        """(f(x), ∇f(x)) with one application of T and one of Tᵀ."""
        value, r = self.residual(x)
        return value, self.operator.adjoint(r)

    def residual(self, x: Tensor) -> tuple[float, Tensor]:
        """(f(x), r) with r = T x − y; ∇f(x) = Tᵀ r is then :meth:`gradient_from_residual`."""
        r = self.operator.forward(x) - self.observation
        sq = torch.sum(r.real**2 + r.imag**2) if r.is_complex() else torch.sum(r * r)
        return 0.5 * float(sq), r

    def gradient_from_residual(self, r: Tensor) -> Tensor:
        """∇f = Tᵀ r for a residual r from :meth:`residual`."""
        return self.operator.adjoint(r)

    def gradient(self, x: Tensor) -> Tensor:
        """∇f(x) = Tᵀ(T x − y)."""
        return self.value_and_gradient(x)[1]

    @property
    def lipschitz(self) -> float:
        """L = ‖T‖², the Lipschitz constant of ∇f (power iteration where no closed form)."""
        if self._lipschitz is None:
            shape = tuple(self.observation_image_shape())
            self._lipschitz = float(self.operator.norm_sq(shape))
        return self._lipschitz

    def observation_image_shape(self) -> tuple[int, ...]:
        """Shape of x (the adjoint of the observation)."""
        return tuple(self.operator.adjoint(self.observation).shape)

    def prox(self, z: Tensor, rho: float) -> Tensor:
        """argmin_x f(x) + ρ/2‖x − z‖², i.e. (TᵀT + ρI)⁻¹(Tᵀy + ρz) — closed form."""
        if not rho > 0:
            raise ValueError(f"the prox weight rho must be positive, got {rho}")
        if self._adjoint_observation is None:
            self._adjoint_observation = self.operator.adjoint(self.observation)
        rhs = self._adjoint_observation + rho * z
        return self.operator.solve_normal(rhs, rho)
