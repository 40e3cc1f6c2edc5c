"""The convergence certificate panel: per variant, what Theorem 1 lets us say about the run so far.

For each variant: a verdict (the guarantee applies / does not / this variant has none), the
plain-English lines of :func:`core.certificate.certificate` (conditions 2C < μ and γ < 1/L on every
iteration, Ψ non-increasing, acceptance rate, trends of the step and of ‖d‖) in the plots' notation
(superscript k), and why proposals were rejected. Plain proximal gradient (pg) takes no learned step,
so its section speaks only of γ < 1/L and the descent of Ψ. A link opens Help → About the guarantee.

Each run's certificate is counted row by row (:class:`core.certificate.CertificateTally`), so an
update costs the new rows, not the whole trace; the rich text is still rebuilt, so
:meth:`CertificatePanel.update_from` runs at most about once a second (spaced further when it gets
expensive) unless forced — at a pause, the limit, or the end.
"""

from __future__ import annotations

import html
import re
import time

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QTextBrowser, QVBoxLayout, QWidget

from core.certificate import Certificate, CertificateTally
from core.objective_readouts import objective_note

from ..refresh_budget import FEW_CORES
from ..state import ExplorerState, RunProgress
from ..state.run_history import RunHistory
from .style import variant_color, variant_label

MIN_INTERVAL_S = 1.0
MIN_WIDTH = 270
# at most 1/COST_FACTOR of the GUI thread's time goes into recomputing; where cores are scarce
# every GUI millisecond is one the solver's thread waits for the GIL (gui/refresh_budget.py)
COST_FACTOR = 100 if FEW_CORES else 40
GOOD, BAD, NEUTRAL = "#2e7d32", "#c62828", "#6d6d6d"
ABOUT_LINK = "about:guarantee"
REASON_WORDS = {  # rich text: what the proposals turned down for this reason did
    "check": "failed the check ‖d‖ ≤ C‖ũ − x<sup>k</sup>‖",
    "objective": "would have raised Ψ",
    "non-finite proposal": "were not finite (NaN / Inf)",
}
LAST_WORDS = {  # rich text: why the latest proposal was turned down
    "check": "the optimality-error check failed (‖d‖ &gt; C‖ũ − x<sup>k</sup>‖, the tolerance)",
    "objective": "its proximal step ũ would have raised Ψ (Ψ(ũ) &gt; Ψ(x<sup>k</sup>))",
    "non-finite proposal": "the module's proposal was not finite (NaN / Inf)",
}
# x^(k+1) → x<sup>k+1</sup>, x^k → x<sup>k</sup> (the plots' notation) in the engine's sentences
_SUPERSCRIPT = (re.compile(r"(\w)\^\(([^()]*)\)"), re.compile(r"(\w)\^(\w+)"))
_PG_UNUSED = ("2C", "μ")  # pg takes no learned step: C and μ play no part in it


def verdict(cert: Certificate) -> tuple[str, str]:
    """(text, colour) of the one-line verdict for a variant."""
    if cert.iterations == 0:
        return "no iterations yet", NEUTRAL
    if cert.diverged:
        return "✗ diverged — stopped", BAD
    if cert.guaranteed:
        return "✓ the guarantee applies", GOOD
    if cert.variant == "fima":
        return "✗ outside the guarantee", BAD
    if cert.variant == "pg":
        return "– plain proximal gradient, no learned step", NEUTRAL
    return "– no check, so no guarantee", NEUTRAL


def rich(line: str) -> str:
    """A plain sentence as rich text, with superscripts: ``‖x^(k+1) − x^k‖`` → x<sup>k+1</sup> …"""
    text = html.escape(line, quote=False)
    for pattern in _SUPERSCRIPT:
        text = pattern.sub(r"\1<sup>\2</sup>", text)
    return text


def describe_reason(reason: str) -> str:
    """A rejection reason in words a student understands (rich text)."""
    if reason in REASON_WORDS:
        return REASON_WORDS[reason]
    if reason.startswith("module error"):
        return f"came from a module that failed ({rich(reason[len('module error: ') :])})"
    if reason.startswith("module returned shape"):
        return f"had the wrong shape ({rich(reason[len('module returned ') :])})"
    return rich(reason)


def last_reject_html(variant: str, k: int, reason: str) -> str:
    """The latest rejection in words: what failed, and what the variant did instead (rich text)."""
    if reason in LAST_WORDS:
        why = LAST_WORDS[reason]
    elif reason.startswith("module error"):
        why = f"the module failed ({rich(reason[len('module error: ') :])})"
    elif reason.startswith("module returned shape"):
        why = (
            f"the module's proposal had the wrong shape ({rich(reason[len('module returned ') :])})"
        )
    else:
        why = rich(reason)
    if variant == "fima":
        return (
            f"Last rejected at k = {k}: {why}, so the proximal-gradient step from x<sup>k</sup> "
            "was taken instead."
        )
    return f"Last unusable proposal at k = {k}: {why}, so this variant stopped."


def gamma_held(row: dict, lipschitz: float | None = None) -> bool | None:
    """Whether γ < 1/L held at ``row``: read off the trace's conditions flag where 2C < μ held
    (then γ < 1/L alone decides it), else γ·L < 1 with ``lipschitz``; None when unknown."""
    C, mu, gamma = row.get("C"), row.get("mu"), row.get("gamma")
    if C is not None and mu is not None and 2 * C < mu:
        return bool(row.get("conditions_hold", True))
    if lipschitz is not None and gamma is not None and lipschitz > 0:
        return gamma * lipschitz < 1.0
    return None


class GammaTally:
    """pg's condition γ < 1/L over a trace, grown row by row: the first k it failed at, and
    whether it was unknown anywhere (:func:`gamma_held`)."""

    def __init__(self, lipschitz: float | None = None) -> None:
        self.lipschitz = lipschitz
        self.count = 0
        self.failed: int | None = None
        self.unknown = False

    def extend(self, rows: list[dict]) -> GammaTally:
        """Count ``rows``, the trace's next rows in order; returns self."""
        for row in rows:
            held = gamma_held(row, self.lipschitz)
            if held is False and self.failed is None:
                self.failed = row.get("k")
            self.unknown = self.unknown or held is None
        self.count += len(rows)
        return self

    def line(self) -> str:
        """Plain proximal gradient's condition, γ < 1/L, and what it gives (rich text)."""
        if self.failed is not None:
            return (
                f"The step-size condition γ &lt; 1/L failed from iteration {self.failed} on: a "
                "proximal-gradient step may then raise Ψ."
            )
        if self.unknown:
            return (
                "Whether the step-size condition γ &lt; 1/L held is not known at every iteration."
            )
        return (
            f"The step-size condition γ &lt; 1/L held at all {self.count} iterations, so no "
            "proximal-gradient step can raise Ψ (each one decreases it or stays put)."
        )


def section_lines(cert: Certificate, pg_line: str) -> list[str]:
    """The certificate's sentences as rich text; pg's speak only of γ < 1/L (``pg_line``) and
    Ψ's descent."""
    if cert.variant != "pg" or cert.iterations == 0:
        return [rich(line) for line in cert.lines]
    kept = [rich(line) for line in cert.lines if not any(word in line for word in _PG_UNUSED)]
    return [pg_line, *kept]


class RunTally:
    """One run's certificate and pg line, kept up to date with its growing trace."""

    def __init__(self, run: str, rows: list[dict], lipschitz: float | None) -> None:
        self.rows = rows  # the history's own list of this run's rows (it grows in place)
        self.last: dict | None = None  # the newest row counted (to notice a replaced trace)
        self.certificate = CertificateTally(run)
        self.gamma = GammaTally(lipschitz)

    def follows(self, rows: list[dict], lipschitz: float | None) -> bool:
        """True if ``rows`` still begin with the rows counted here (same L)."""
        count = self.certificate.count
        return (
            rows is self.rows
            and len(rows) >= count
            and (count == 0 or rows[count - 1] is self.last)
            and self.gamma.lipschitz == lipschitz
        )

    def catch_up(self) -> None:
        """Count the rows added since the last call."""
        new = self.rows[self.certificate.count :]
        if new:
            self.certificate.extend(new)
            self.gamma.extend(new)
            self.last = new[-1]


def certificate_html(
    cert: Certificate,
    history: RunHistory,
    lipschitz: float | None = None,
    gamma: GammaTally | None = None,
) -> str:
    """One variant's section of the panel (rich text); ``lipschitz``: L, for pg's γ < 1/L
    (``gamma``: that condition already counted over the run's rows)."""
    text, colour = verdict(cert)
    run = cert.label or cert.variant  # the run's key in the history: a variant or a run label
    name = html.escape(variant_label(run))
    parts = [
        f'<h3 style="margin-bottom:2px"><span style="color:{variant_color(run)}">'
        f'{name}</span> <span style="color:{colour}">{html.escape(text)}</span></h3><ul>'
    ]
    if cert.variant == "pg" and cert.iterations:
        gamma = gamma if gamma is not None else GammaTally(lipschitz).extend(history.rows(run))
    lines = section_lines(cert, gamma.line() if gamma is not None else "")
    parts += [f"<li>{line}</li>" for line in lines]
    reasons = history.reject_reasons(run)
    if reasons:
        total = sum(reasons.values())
        items = ", ".join(
            f"{count} {describe_reason(reason)}" for reason, count in reasons.most_common(4)
        )
        fate = "were turned down" if cert.variant == "fima" else "could not be used"
        parts.append(f"<li>{total} proposal(s) {fate}: {items}.</li>")
        last = history.last_reject(run)
        if last is not None:
            parts.append(f"<li>{last_reject_html(cert.variant, *last)}</li>")
    parts.append("</ul>")
    return "".join(parts)


CATCH_UP_MS = 1100  # a throttled update is made this much later (or once its spacing passed)


class CertificatePanel(QWidget):
    """Rich-text certificates of every variant of the run."""

    aboutRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.setMinimumWidth(MIN_WIDTH)
        self.browser.anchorClicked.connect(self._on_link)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.browser)
        self.certificates: dict[str, Certificate] = {}
        self._tallies: dict[str, RunTally] = {}  # by run, kept up to date with its trace
        self._last = -1e9
        self._cost = 0.0
        self.objective_note = ""
        self.lipschitz: float | None = None  # L of the problem, for pg's γ < 1/L
        self._progress: RunProgress | None = None
        self._catch_up = QTimer(self)  # a throttled update is made up for a little later
        self._catch_up.setSingleShot(True)
        self._catch_up.timeout.connect(self._update_now)
        self.show_empty()

    def bind_run(self, progress: RunProgress) -> None:
        """Certify the run ``progress`` holds, about once a second (at once when asked)."""
        self._progress = progress
        progress.events.started.connect(self.show_empty)
        progress.events.cleared.connect(self.show_empty)
        progress.events.certificate.connect(self._on_certificate)

    def _on_certificate(self, force: bool) -> None:
        if self._progress is None or not self._progress.variants:
            return
        if self.update_from(self._progress.history, self._progress.variants, force):
            self._catch_up.stop()
        elif not self._catch_up.isActive():
            self._catch_up.start(self.catch_up_ms())

    def catch_up_ms(self) -> int:
        """When a throttled update is made up for: CATCH_UP_MS, or later while the throttle's own
        spacing (COST_FACTOR × an update's cost) has not passed."""
        spacing = max(MIN_INTERVAL_S, COST_FACTOR * self._cost)
        due = self._last + spacing - time.perf_counter()
        return max(CATCH_UP_MS, round(1000 * due))

    def _update_now(self) -> None:
        self._on_certificate(True)

    def show_problem(self, state: ExplorerState) -> None:
        """The state's problem changed: say what its Ψ holds, and take its L (for pg)."""
        problem = state.setup.problem
        self.set_objective_note(objective_note(problem))
        self.set_lipschitz(problem.lipschitz)

    def set_objective_note(self, note: str) -> None:
        """What Ψ holds (a learned term, an estimated L), shown above the verdicts."""
        self.objective_note = note
        if not self.certificates:
            self.show_empty()

    def set_lipschitz(self, lipschitz: float | None) -> None:
        """L, the Lipschitz constant of ∇s: pg's γ < 1/L where the trace alone cannot tell."""
        self.lipschitz = None if lipschitz is None else float(lipschitz)

    def show_empty(self, *_run) -> None:
        """No run yet."""
        self._catch_up.stop()
        self.certificates = {}
        self._tallies = {}
        self._last = -1e9
        self.browser.setHtml(
            self._note()
            + "<p>Run the solver to see, for each variant, whether Theorem 1's guarantee holds.</p>"
            + self._footer()
        )

    def _note(self) -> str:
        return f"<p><i>{html.escape(self.objective_note)}</i></p>" if self.objective_note else ""

    def update_from(
        self, history: RunHistory, variants: list[str] | tuple[str, ...], force: bool = False
    ) -> bool:
        """Recompute from the trace (throttled unless ``force``); True if it did."""
        now = time.perf_counter()
        if not force and now - self._last < max(MIN_INTERVAL_S, COST_FACTOR * self._cost):
            return False
        self._last = now
        tallies = {v: self._tally(history, v) for v in variants}
        self.certificates = {v: t.certificate.certificate() for v, t in tallies.items()}
        sections = [
            certificate_html(c, history, self.lipschitz, tallies[v].gamma)
            for v, c in self.certificates.items()
        ]
        self.browser.setHtml(self._note() + "".join(sections) + self._footer())
        self._cost = time.perf_counter() - now
        return True

    def _tally(self, history: RunHistory, run: str) -> RunTally:
        """``run``'s tally brought up to date: O(new rows), rebuilt if its trace was replaced."""
        rows = history.rows(run)
        tally = self._tallies.get(run)
        if tally is None or not tally.follows(rows, self.lipschitz):
            tally = self._tallies[run] = RunTally(run, rows, self.lipschitz)
        tally.catch_up()
        return tally

    def text(self) -> str:
        """The panel's plain text (for tests)."""
        return self.browser.toPlainText()

    @staticmethod
    def _footer() -> str:
        return (
            f'<p><a href="{ABOUT_LINK}">What does the theorem say?</a> '
            "(Help → About the guarantee)</p>"
        )

    def _on_link(self, url) -> None:
        if url.toString() == ABOUT_LINK:
            self.aboutRequested.emit()
