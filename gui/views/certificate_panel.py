"""The convergence certificate panel: per variant, what Theorem 1 lets us say about the run so far.

For each variant: a verdict (the guarantee applies / does not / this variant has none), the
plain-English lines of :func:`core.certificate.certificate` (conditions 2C < μ and γ < 1/L on every
iteration, Ψ non-increasing, acceptance rate, trends of the step and of ‖d‖), and why proposals were
rejected. A link opens Help → About the guarantee.

Recomputing reads every row, so :meth:`CertificatePanel.update_from` runs at most about once a
second (spaced further when it gets expensive) unless forced — at a pause, the limit, or the end.
"""

from __future__ import annotations

import html
import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTextBrowser, QVBoxLayout, QWidget

from core.certificate import Certificate, certificate

from ..run_history import RunHistory
from .style import variant_color, variant_label

MIN_INTERVAL_S = 1.0
MIN_WIDTH = 270
COST_FACTOR = 40  # at most 1/40 of the GUI thread's time goes into recomputing
GOOD, BAD, NEUTRAL = "#2e7d32", "#c62828", "#6d6d6d"
ABOUT_LINK = "about:guarantee"
REASON_WORDS = {
    "check": "failed the check ‖d‖ ≤ C‖ũ − x^k‖",
    "objective": "would have raised Ψ",
    "non-finite proposal": "were not finite (NaN / Inf)",
}


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


def describe_reason(reason: str) -> str:
    """A rejection reason in words a student understands."""
    if reason in REASON_WORDS:
        return REASON_WORDS[reason]
    if reason.startswith("module error"):
        return f"came from a module that failed ({reason[len('module error: ') :]})"
    if reason.startswith("module returned shape"):
        return f"had the wrong shape ({reason[len('module returned ') :]})"
    return reason


def certificate_html(cert: Certificate, history: RunHistory) -> str:
    """One variant's section of the panel (rich text)."""
    text, colour = verdict(cert)
    name = html.escape(variant_label(cert.variant))
    parts = [
        f'<h3 style="margin-bottom:2px"><span style="color:{variant_color(cert.variant)}">'
        f'{name}</span> <span style="color:{colour}">{html.escape(text)}</span></h3><ul>'
    ]
    parts += [f"<li>{html.escape(line)}</li>" for line in cert.lines]
    reasons = history.reject_reasons(cert.variant)
    if reasons:
        total = sum(reasons.values())
        items = ", ".join(
            f"{count} {html.escape(describe_reason(reason))}"
            for reason, count in reasons.most_common(4)
        )
        fate = "were turned down" if cert.variant == "fima" else "could not be used"
        parts.append(f"<li>{total} proposal(s) {fate}: {items}.</li>")
        last = history.last_reject(cert.variant)
        if last is not None:
            parts.append(f"<li>Latest at k = {last[0]}: <i>{html.escape(last[1])}</i></li>")
    parts.append("</ul>")
    return "".join(parts)


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
        self._last = -1e9
        self._cost = 0.0
        self.objective_note = ""
        self.show_empty()

    def set_objective_note(self, note: str) -> None:
        """What Ψ holds (a learned term, an estimated L), shown above the verdicts."""
        self.objective_note = note
        if not self.certificates:
            self.show_empty()

    def show_empty(self) -> None:
        """No run yet."""
        self.certificates = {}
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
        self.certificates = {v: certificate(v, history.rows(v)) for v in variants}
        sections = [certificate_html(c, history) for c in self.certificates.values()]
        self.browser.setHtml(self._note() + "".join(sections) + self._footer())
        self._cost = time.perf_counter() - now
        return True

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
