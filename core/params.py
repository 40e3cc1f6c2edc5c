"""Algorithm parameters C^k, μ^k, γ^k (+ λ and the denoiser σ schedule), validated, changeable live.

The FIMA guarantee (Liu et al. 2019, Thm 1) needs 0 < 2C^k < μ^k and 0 < γ^k < 1/L. Settings outside
are allowed — the explorer exists to look at them — but :meth:`Parameters.conditions` says so.

Live changes: the algorithm reads a :class:`ParameterTimeline` at every iteration boundary. Changes
submitted from another thread (``submit``) are applied at the next boundary and written into the
timeline by iteration index, so a run can be replayed exactly (``ParameterTimeline(initial, changes)``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

# Named starting points. "guaranteed" keeps 2C < μ; "paper" is the setting of the authors' public
# check code (C = 0.08 with a proximal weight μ = 1e-3), far OUTSIDE 2C < μ: learned steps get accepted
# much more often, and only the engine's objective guard keeps Ψ monotone there.
PRESETS: dict[str, dict[str, float]] = {"guaranteed": {}, "paper": {"C": 0.08, "mu": 1e-3}}

EDITABLE = (
    "C",
    "mu",
    "gamma",
    "lam",
    "rho",
    "sigma_start",
    "sigma_end",
    "sigma_steps",
    "sigma_g",
)
MAX_VALUE = 1e6


@dataclass(frozen=True)
class Parameters:
    """One iteration's parameters: C (check constant), μ (proximal weight), γ (step size) and more.

    ``lam`` is the prior weight λ in g, ``rho`` the weight of the fidelity step A_f, and the denoiser
    noise level follows ``sigma_start`` → ``sigma_end`` geometrically over ``sigma_steps`` iterations
    (σ on the [0, 1] intensity scale; ``sigma_steps`` = 0 keeps σ = ``sigma_end``). That schedule is the
    MODULE's. ``sigma_g`` is the σ of the learned prior g_σ, part of Ψ itself (0: the prior keeps its
    own σ; unused by hand-made priors); it never follows a schedule.
    """

    C: float = 0.4
    mu: float = 1.0
    gamma: float = 0.9
    lam: float = 1e-3
    rho: float = 0.05
    sigma_start: float = 0.05
    sigma_end: float = 0.01
    sigma_steps: int = 30
    sigma_g: float = 0.0

    def __post_init__(self) -> None:
        for name in EDITABLE:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"parameter {name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"parameter {name} must be finite, got {value}")
            if abs(value) > MAX_VALUE:
                raise ValueError(
                    f"parameter {name} = {value} is absurdly large (limit {MAX_VALUE:g})"
                )
        for name in ("C", "mu", "gamma"):
            if getattr(self, name) <= 0:
                raise ValueError(f"parameter {name} must be positive, got {getattr(self, name)}")
        for name in ("lam", "rho", "sigma_start", "sigma_end", "sigma_steps", "sigma_g"):
            if getattr(self, name) < 0:
                raise ValueError(f"parameter {name} must be ≥ 0, got {getattr(self, name)}")
        if self.rho == 0:
            raise ValueError("parameter rho must be positive")
        if int(self.sigma_steps) != self.sigma_steps:
            raise ValueError(f"sigma_steps must be a whole number, got {self.sigma_steps}")

    def sigma_at(self, k: int) -> float:
        """Denoiser noise level σ^k: geometric from σ_start to σ_end over ``sigma_steps``."""
        n = int(self.sigma_steps)
        if n <= 1 or k >= n - 1:
            return self.sigma_end
        t = k / (n - 1)
        if self.sigma_start > 0 and self.sigma_end > 0:
            return self.sigma_start * (self.sigma_end / self.sigma_start) ** t
        return self.sigma_start + (self.sigma_end - self.sigma_start) * t

    def conditions(self, lipschitz: float) -> dict[str, bool]:
        """Which of Thm 1's conditions hold: 2C < μ and γ < 1/L."""
        return {"2C<mu": 2 * self.C < self.mu, "gamma<1/L": self.gamma * lipschitz < 1.0}

    def conditions_hold(self, lipschitz: float) -> bool:
        """True when 2C < μ and γ < 1/L, so the convergence guarantee applies."""
        return all(self.conditions(lipschitz).values())

    def with_changes(self, **changes: float) -> Parameters:
        """A validated copy with some fields changed (unknown names are refused)."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise ValueError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
        return replace(self, **changes)

    def as_dict(self) -> dict[str, float]:
        """Plain dict of all fields."""
        return asdict(self)


class ParameterTimeline:
    """Parameters by iteration: an initial set plus changes keyed by the iteration they start at.

    Thread-safe: ``submit`` may be called from any thread; the algorithm calls ``at(k)`` at each
    iteration boundary, which applies pending submissions from k on and records them.
    """

    def __init__(self, initial: Parameters, changes: dict[int, dict[str, float]] | None = None):
        self.initial = initial
        self._changes: dict[int, dict[str, float]] = {
            int(k): dict(v) for k, v in (changes or {}).items()
        }
        self._pending: dict[str, float] = {}
        self._lock = threading.Lock()
        self._current = initial
        self._next_k = 0
        self._forward: Callable[[dict[str, float]], None] | None = None
        # validate recorded changes up front: a bad session file fails here, not mid-run
        probe = initial
        for k in sorted(self._changes):
            probe = probe.with_changes(**self._changes[k])

    def submit(self, **changes: float) -> None:
        """Queue changes for the next iteration boundary (validated now: raises ValueError)."""
        with self._lock:
            self._current.with_changes(**{**self._pending, **changes})
            self._pending.update(changes)
            forward = self._forward
        if forward is not None:
            forward(dict(changes))

    def forward_to(self, send: Callable[[dict[str, float]], None] | None) -> None:
        """Also hand every accepted submission to ``send`` (a copy of this timeline that another
        process reads: the explorer's engine process); None stops forwarding."""
        with self._lock:
            self._forward = send

    def snapshot(self) -> tuple:
        """This timeline's own record (changes, pending, next boundary, parameters in force)."""
        with self._lock:
            changes = {k: dict(v) for k, v in self._changes.items()}
            return changes, dict(self._pending), self._next_k, self._current

    def restore(self, snapshot: tuple) -> None:
        """Take over a :meth:`snapshot` made by a copy of this timeline (the engine's)."""
        changes, pending, next_k, current = snapshot
        with self._lock:
            self._changes = {k: dict(v) for k, v in changes.items()}
            self._pending, self._next_k, self._current = dict(pending), next_k, current

    def __getstate__(self) -> dict:
        """Pickled without its lock and forwarding (a copy sent to the engine process)."""
        state = self.__dict__.copy()
        del state["_lock"], state["_forward"]
        return state

    def __setstate__(self, state: dict) -> None:
        """A pickled timeline gets a lock of its own and forwards nowhere."""
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._forward = None

    def at(self, k: int) -> Parameters:
        """Parameters in force for iteration k (applies and records pending changes)."""
        with self._lock:
            if k < self._next_k:
                return self._replay(k)
            for j in range(self._next_k, k + 1):
                if j == k and self._pending:
                    self._changes.setdefault(k, {}).update(self._pending)
                    self._pending = {}
                if j in self._changes:
                    self._current = self._current.with_changes(**self._changes[j])
            self._next_k = k + 1
            return self._current

    def in_force(self, k: int) -> Parameters:
        """Parameters recorded for iteration k (read only: pending changes are not applied)."""
        with self._lock:
            return self._replay(k)

    def reopen(self, k: int) -> None:
        """Iteration k was abandoned before any run finished it (core/interrupt.py): changes
        submitted since may still start at k, where the user saw them made. No-op unless k was
        the last iteration read."""
        with self._lock:
            if self._next_k == k + 1:
                self._next_k = k
                self._current = self._replay(k - 1)

    def _replay(self, k: int) -> Parameters:
        p = self.initial
        for j in sorted(self._changes):
            if j > k:
                break
            p = p.with_changes(**self._changes[j])
        return p

    @property
    def changes(self) -> dict[int, dict[str, float]]:
        """Recorded changes by iteration index (a copy)."""
        with self._lock:
            return {k: dict(v) for k, v in sorted(self._changes.items())}

    @property
    def pending(self) -> dict[str, float]:
        """Submitted changes not yet applied."""
        with self._lock:
            return dict(self._pending)


class RunTimeline(ParameterTimeline):
    """One run's parameters by k when several runs share live changes (A/B, core/run_spec.py).

    The run starts from the shared timeline's initial parameters with its ``overrides``; at each
    iteration the shared changes apply first, then the run's own (:meth:`submit` here reaches this
    run only; ``shared.submit`` reaches every run over it, at the same k for all of them).
    """

    def __init__(
        self,
        shared: ParameterTimeline,
        overrides: dict[str, float] | None = None,
        own: dict[int, dict[str, float]] | None = None,
    ) -> None:
        super().__init__(shared.initial.with_changes(**(overrides or {})), own)
        self.shared = shared
        self._compose(max(self._all_keys(), default=0))  # the composed record is valid

    def _all_keys(self) -> set[int]:
        return set(self.shared.changes) | set(ParameterTimeline.changes.fget(self))

    def _keys(self, k: int) -> list[int]:
        return sorted(j for j in self._all_keys() if j <= k)

    def _compose(self, k: int) -> Parameters:
        shared, own = self.shared.changes, ParameterTimeline.changes.fget(self)
        p = self.initial
        for j in self._keys(k):
            p = p.with_changes(**{**shared.get(j, {}), **own.get(j, {})})
        return p

    def at(self, k: int) -> Parameters:
        """Parameters in force for iteration k: shared and own pending changes applied at k."""
        self.shared.at(k)
        super().at(k)
        return self._compose(k)

    def in_force(self, k: int) -> Parameters:
        """Parameters recorded for iteration k (pending changes not applied)."""
        return self._compose(k)

    def reopen(self, k: int) -> None:
        """Iteration k was abandoned before any run finished it: reopen it here and in the
        shared timeline (idempotent, so every run over the shared one may call it)."""
        self.shared.reopen(k)
        super().reopen(k)

    @property
    def own_changes(self) -> dict[int, dict[str, float]]:
        """The changes made to this run alone, by iteration."""
        return ParameterTimeline.changes.fget(self)

    @property
    def changes(self) -> dict[int, dict[str, float]]:
        """Every change this run saw (shared, then its own at the same k), by iteration."""
        shared, own = self.shared.changes, self.own_changes
        return {j: {**shared.get(j, {}), **own.get(j, {})} for j in sorted(set(shared) | set(own))}

    @property
    def pending(self) -> dict[str, float]:
        """Submitted changes (shared, then own) not yet applied."""
        return {**self.shared.pending, **ParameterTimeline.pending.fget(self)}
