"""Adjoint identities, closed-form norms and the normal-equation solve of every operator."""

import numpy as np
import pytest
import torch

from core.fidelity import LeastSquares
from core.operators import Blur, Identity, gaussian_kernel, power_iteration

torch.manual_seed(0)


def _operators(shape=(1, 1, 24, 20)):
    rng = np.random.default_rng(1)
    motion = rng.random((7, 5))  # asymmetric, even width padded by nobody: exercises centring
    return [
        Identity(),
        Blur(gaussian_kernel(1.5), shape[-2:]),
        Blur(motion / motion.sum(), shape[-2:]),
        Blur(np.ones((1, 1)), shape[-2:]),
    ]


@pytest.mark.parametrize("op", _operators(), ids=lambda o: f"{o.name}")
def test_adjoint_identity(op):
    x = torch.randn(1, 1, 24, 20, dtype=torch.float32)
    y = torch.randn(1, 1, 24, 20, dtype=torch.float32)
    lhs = float(torch.sum(op.forward(x) * y))
    rhs = float(torch.sum(x * op.adjoint(y)))
    assert lhs == pytest.approx(rhs, rel=1e-4, abs=1e-4)


@pytest.mark.parametrize("op", _operators(), ids=lambda o: f"{o.name}")
def test_norm_matches_power_iteration(op):
    shape = (1, 1, 24, 20)
    estimate = power_iteration(op.gram, shape, iterations=300)
    assert op.norm_sq(shape) == pytest.approx(estimate, rel=1e-3)


@pytest.mark.parametrize("op", _operators(), ids=lambda o: f"{o.name}")
def test_solve_normal_inverts_gram(op):
    x = torch.randn(1, 1, 24, 20)
    rho = 0.3
    rhs = op.gram(x) + rho * x
    assert torch.allclose(op.solve_normal(rhs, rho), x, atol=1e-4)


def test_blur_does_not_shift_a_delta_kernel_and_centres_odd_kernels():
    img = torch.zeros(1, 1, 16, 16)
    img[..., 8, 8] = 1.0
    k = np.zeros((5, 5))
    k[2, 2] = 1.0
    assert torch.allclose(Blur(k, (16, 16)).forward(img), img, atol=1e-6)
    g = Blur(gaussian_kernel(1.0), (16, 16)).forward(img)
    assert int(torch.argmax(g)) == 8 * 16 + 8


def test_blur_matches_direct_circular_convolution():
    rng = np.random.default_rng(3)
    k = rng.random((3, 5))
    k /= k.sum()
    x = rng.random((9, 11))
    direct = np.zeros_like(x)
    for i in range(9):
        for j in range(11):
            for a in range(3):
                for b in range(5):
                    direct[i, j] += k[a, b] * x[(i - (a - 1)) % 9, (j - (b - 2)) % 11]
    out = Blur(k, (9, 11)).forward(torch.tensor(x, dtype=torch.float32)[None, None])
    assert np.allclose(out[0, 0].numpy(), direct, atol=1e-5)


def test_fidelity_gradient_matches_finite_differences():
    torch.manual_seed(2)
    op = Blur(gaussian_kernel(1.2), (12, 12))
    y = torch.rand(1, 1, 12, 12, dtype=torch.float64)
    op.otf = op.otf.to(torch.complex128)
    f = LeastSquares(op, y)
    x = torch.rand(1, 1, 12, 12, dtype=torch.float64)
    direction = torch.randn_like(x)
    eps = 1e-6
    numeric = (f.value(x + eps * direction) - f.value(x - eps * direction)) / (2 * eps)
    assert float(torch.sum(f.gradient(x) * direction)) == pytest.approx(numeric, rel=1e-5)


def test_fidelity_prox_is_optimal():
    op = Blur(gaussian_kernel(2.0), (16, 16))
    y = torch.rand(1, 1, 16, 16)
    f = LeastSquares(op, y)
    z = torch.rand(1, 1, 16, 16)
    rho = 0.2
    p = f.prox(z, rho)
    # optimality: ∇f(p) + ρ(p − z) = 0
    assert float((f.gradient(p) + rho * (p - z)).abs().max()) < 1e-4
    assert f.lipschitz == pytest.approx(1.0, rel=1e-5)  # normalised non-negative kernel


def test_blur_rejects_kernel_larger_than_image():
    with pytest.raises(ValueError, match="larger than the image"):
        Blur(np.ones((9, 9)), (8, 8))
