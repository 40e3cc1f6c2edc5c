"""When FIMA asks its module for a proposal u = A(x^k): every iteration, or adaptively.

A proposal costs the module and two gradients of the smooth part (∇s(u) and ∇s(ũ) for the check),
several times a proximal-gradient step, and once the iterates near a critical point the check rejects
nearly all of them. The ``adaptive`` policy stops paying for proposals that do not help: after R
(``patience``) straight rejections the next proposal waits 2, then 4, 8, … iterations (at most
``max_gap``), and one accepted proposal brings back a proposal every iteration. A change of the
parameters (C, μ, γ, λ, σ) also brings them back: the check may pass now.

A skipped proposal is exactly the rejection branch of Algorithm 1 (v = x^k, then step 9), so
Prop. 1 and Thm 1 hold unchanged: Ψ(x^{k+1}) ≤ Ψ(x^k) and every limit point is critical, whichever
iterations propose. The policy depends only on the run's own accept/reject history and the parameter
timeline, so a session replays to the same trace.
"""

from __future__ import annotations

from dataclasses import dataclass

POLICIES = ("always", "adaptive")
DEFAULT_POLICY = "adaptive"
PATIENCE = 2  # R: straight rejections before proposals are spaced out
MAX_GAP = 32  # the longest wait between two proposals, in iterations


@dataclass(frozen=True)
class ProposalPolicy:
    """``always`` (propose at every iteration) or ``adaptive`` (back off after R rejections)."""

    name: str = DEFAULT_POLICY
    patience: int = PATIENCE
    max_gap: int = MAX_GAP

    def __post_init__(self) -> None:
        if self.name not in POLICIES:
            raise ValueError(
                f"proposal policy must be one of {', '.join(POLICIES)}, got {self.name!r}"
            )
        if self.patience < 1:
            raise ValueError(f"proposal policy: patience must be ≥ 1, got {self.patience}")
        if self.max_gap < 1:
            raise ValueError(f"proposal policy: max_gap must be ≥ 1, got {self.max_gap}")

    def schedule(self) -> ProposalSchedule:
        """A fresh schedule for one run (the mutable state)."""
        return ProposalSchedule(self)

    def describe(self) -> str:
        """The text that :func:`parse_policy` turns back into this policy."""
        if self.name == "always" or (self.patience, self.max_gap) == (PATIENCE, MAX_GAP):
            return self.name
        return f"{self.name}:patience={self.patience},max_gap={self.max_gap}"


class ProposalSchedule:
    """Which iterations propose, from the accept/reject history of one run."""

    def __init__(self, policy: ProposalPolicy):
        self.policy = policy
        self.rejections = 0  # straight rejections of proposals made
        self.next_k = 0  # the next iteration that proposes

    def wants(self, k: int) -> bool:
        """True if iteration k asks the module for a proposal."""
        return self.policy.name == "always" or k >= self.next_k

    def record(self, k: int, accepted: bool) -> None:
        """Iteration k proposed and its proposal was ``accepted`` (or rejected, for any reason)."""
        if accepted:
            self.rejections = 0
            self.next_k = k + 1
            return
        self.rejections += 1
        over = self.rejections - self.policy.patience
        gap = 1 if over < 0 else min(2 ** (over + 1), self.policy.max_gap)
        self.next_k = k + gap

    def reset(self, k: int) -> None:
        """Propose again from iteration k on (the parameters changed)."""
        self.rejections = 0
        self.next_k = k


def parse_policy(text: str | ProposalPolicy | None) -> ProposalPolicy:
    """``always``, ``adaptive`` or ``adaptive:patience=R,max_gap=M`` (None: the default)."""
    if isinstance(text, ProposalPolicy):
        return text
    if text is None:
        return ProposalPolicy()
    name, _, rest = str(text).strip().partition(":")
    settings: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, value = item.partition("=")
        if not sep or key.strip() not in ("patience", "max_gap"):
            raise ValueError(f"proposal policy: unknown setting {item!r} (patience=R, max_gap=M)")
        try:
            settings[key.strip()] = int(value)
        except ValueError:
            raise ValueError(
                f"proposal policy: {key.strip()} must be an integer, got {value!r}"
            ) from None
    return ProposalPolicy(name.strip(), **settings)
