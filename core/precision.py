"""True float32 for the engine's own evaluations: Ψ, ∇s, the check, the proxes, L estimates.

On CUDA, PyTorch lets cuDNN run float32 convolutions in TF32 (10-bit mantissa) by default, and
``torch.set_float32_matmul_precision("high")`` does the same for matrix products; oneDNN can use
bf16 on the CPU. Measured on an H200, Ψ then rose under fima by up to 2·10⁻⁵ of its value: the
learned prior's value and gradient are network passes, and rounding at that level breaks
Ψ(x^{k+1}) ≤ Ψ(x^k) (Prop. 1) on screen. :func:`exact_float32` scopes IEEE float32 for the
convolutions, matrix products and RNNs of every backend and puts the process's previous settings
back when the scope ends.

Reproducibility comes with it: inside the scope cuDNN uses its deterministic algorithms and does
not autotune (``torch.backends.cudnn.deterministic``, ``benchmark``), so a replayed session gives the
same trace on the same GPU (its backward convolutions otherwise accumulate with atomics; the learned
prior pads without F.pad for the same reason, core/learned_prior.py).

Where the scope is (core/algorithm.py): every evaluation of one step — Ψ, ∇s, steps 3, 4 and 9, the
record and its metrics — runs inside it, and it is left before the generator yields. A suspended
generator therefore holds no setting; other code running between two iterations sees the user's
own. The proposal u = A(x^k) is computed OUTSIDE the scope: a module may use TF32 or bf16 as it
likes, since the check makes any proposal safe. What must agree with the engine's numbers enters the
scope by itself: the learned priors (core/learned_prior.py, core/learned_prox_prior.py — a
refinement's evaluations are cached and reused by the engine), the refinement of a proposal
(core/modules/refine.py), :meth:`core.problem.Problem.objective` and a task's build (its L
estimates).

Threads: torch's settings are process-global, so the scope is too. The explorer's worker thread runs
the engine while the GUI thread may run torch code; scopes entered from several threads share one
counter under a lock: the first to enter saves the settings and applies IEEE float32, the last to
leave restores them. Overlapping scopes therefore never restore each other's state half-way, and a
scope is never left with TF32 on. The cost: torch code of another thread that overlaps an engine
step also runs in IEEE float32 (slower, never less exact), and a setting another thread changes
while a scope is open is replaced by the saved one when the last scope ends. On the CPU without
oneDNN's bf16 the settings change nothing numerically.

Both of torch's APIs are handled. The legacy flags (``torch.backends.cudnn.allow_tf32``,
``torch.backends.cuda.matmul.allow_tf32``, ``torch.set_float32_matmul_precision``) are set through
their own setters, which keep torch ≥ 2.9's per-backend settings (``torch.backends.cudnn.conv.
fp32_precision``, …) consistent with them, so both read sensibly inside the scope (``allow_tf32``
False, precision "highest"); then any per-backend setting that still reads TF32 or bf16 (a parent
set to it, oneDNN's bf16) is set to "ieee". Restoring writes the legacy flags back as they read
(when torch could read them: it refuses after its two APIs were mixed), then every per-backend
setting that does not read as saved. Every getter of both APIs then reads as before the scope.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch

# the (backend, op) pairs of torch's per-backend float32 precision (torch ≥ 2.9); parents first
_KEYS = (
    ("generic", "all"),
    ("cuda", "all"),
    ("mkldnn", "all"),
    ("cuda", "conv"),
    ("cuda", "rnn"),
    ("cuda", "matmul"),
    ("mkldnn", "conv"),
    ("mkldnn", "rnn"),
    ("mkldnn", "matmul"),
)
_IEEE = ("none", "ieee")  # "none": inherit, IEEE float32 when no parent asks for less

_lock = threading.RLock()  # re-entrant: a finalizer run by the GC inside the lock may enter a scope
_depth = 0
_saved: dict | None = None


def _per_backend_api() -> bool:
    """True when this torch has the per-backend ``fp32_precision`` settings."""
    return hasattr(torch._C, "_get_fp32_precision_getter") and hasattr(
        torch._C, "_set_fp32_precision_setter"
    )


@functools.cache
def _keys() -> tuple[tuple[str, str], ...]:
    """The (backend, op) pairs this torch knows."""
    known = []
    for key in _KEYS:
        try:
            torch._C._get_fp32_precision_getter(*key)
        except Exception:  # a pair an older or newer torch does not have
            continue
        known.append(key)
    return tuple(known)


def _legacy() -> dict | None:
    """The legacy flags, or None where torch refuses to read them (its two APIs were mixed)."""
    try:
        return {
            "matmul_precision": torch.get_float32_matmul_precision(),
            "cuda.matmul.allow_tf32": bool(torch.backends.cuda.matmul.allow_tf32),
            "cudnn.allow_tf32": bool(torch.backends.cudnn.allow_tf32),
        }
    except RuntimeError:
        return None


def _set_legacy(flags: dict) -> None:
    """Write the legacy flags that do not read as ``flags`` yet (the matmul precision first: it sets
    cuBLAS's flag too, and writing that flag again can leave the two APIs mixed)."""
    torch.set_float32_matmul_precision(flags["matmul_precision"])
    for name, flag in (
        ("cuda.matmul.allow_tf32", torch.backends.cuda.matmul),
        ("cudnn.allow_tf32", torch.backends.cudnn),
    ):
        now = _legacy()
        if now is None or now[name] != flags[name]:
            flag.allow_tf32 = flags[name]


def settings() -> dict:
    """The process's float32 precision settings now (what :func:`exact_float32` saves): the legacy
    flags (None where unreadable) and, on torch ≥ 2.9, every (backend, op) setting."""
    state: dict = {
        "legacy": _legacy(),
        "cudnn.deterministic": bool(torch.backends.cudnn.deterministic),
        "cudnn.benchmark": bool(torch.backends.cudnn.benchmark),
    }
    if _per_backend_api():
        state.update({key: torch._C._get_fp32_precision_getter(*key) for key in _keys()})
    return state


def _apply(saved: dict) -> None:
    """Put saved settings back: the legacy flags through their own setters, then each (backend,
    op) setting that does not read as saved."""
    if saved["legacy"] is not None:
        _set_legacy(saved["legacy"])
    torch.backends.cudnn.deterministic = saved["cudnn.deterministic"]
    torch.backends.cudnn.benchmark = saved["cudnn.benchmark"]
    for key, value in saved.items():
        if isinstance(key, tuple) and torch._C._get_fp32_precision_getter(*key) != value:
            torch._C._set_fp32_precision_setter(*key, value)


def _apply_exact() -> None:
    """IEEE float32 for convolutions, matrix products and RNNs on every backend; cuDNN's
    deterministic algorithms (no autotuning)."""
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    _set_legacy(
        {"matmul_precision": "highest", "cuda.matmul.allow_tf32": False, "cudnn.allow_tf32": False}
    )
    if _per_backend_api():  # what the legacy flags do not reach: a parent or oneDNN asking for less
        for key in _keys():
            if key[1] != "all" and torch._C._get_fp32_precision_getter(*key) not in _IEEE:
                torch._C._set_fp32_precision_setter(*key, "ieee")


def is_exact() -> bool:
    """True when float32 convolutions and matrix products run in IEEE float32 now (no TF32/bf16)."""
    if _per_backend_api():
        return all(
            torch._C._get_fp32_precision_getter(*key) in _IEEE for key in _keys() if key[1] != "all"
        )
    return _legacy() == {
        "matmul_precision": "highest",
        "cuda.matmul.allow_tf32": False,
        "cudnn.allow_tf32": False,
    }


def exact_depth() -> int:
    """How many :func:`exact_float32` scopes are open now, over all threads."""
    return _depth


@contextmanager
def exact_float32() -> Iterator[None]:
    """IEEE float32 inside (no TF32, no bf16) and cuDNN's deterministic algorithms; the previous
    settings back when the last scope ends.

    Reentrant and shared by all threads (see the module's docstring); usable as a decorator.
    """
    global _depth, _saved
    with _lock:
        if _depth == 0:
            saved = settings()
            try:
                _apply_exact()
            except Exception:
                _apply(saved)
                raise
            _saved = saved
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                saved, _saved = _saved, None
                _apply(saved)
