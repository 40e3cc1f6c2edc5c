"""Help menu windows: the guarantee in words (with the paper's reference) and the shortcuts.

Both are non-modal: they stay open beside the running explorer.
"""

from __future__ import annotations

import html

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from core.certificate import PAPER

PAPER_URL = "https://arxiv.org/abs/1808.05331"

GUARANTEE_HTML = f"""
<h2>What FIMA guarantees</h2>
<p>FIMA solves <b>min Ψ(x) = f(x) + g(x)</b>: f measures how well x explains the observation (its
gradient is L-Lipschitz), g is the prior (it may be nonconvex). At every iteration a learned module
A proposes u = A(x<sup>k</sup>); a proximal step turns it into ũ, and a cheap test of the optimality
error d decides whether ũ is trusted (<i>accepted</i>) or replaced by x<sup>k</sup>
(<i>rejected</i>). A proximal-gradient step then gives x<sup>k+1</sup>.</p>
<p><b>Theorem 1, in words.</b> Suppose that at <b>every</b> iteration</p>
<ul>
<li>0 &lt; 2C<sup>k</sup> &lt; μ<sup>k</sup> (the check constant is small next to the proximal
weight), and</li>
<li>0 &lt; γ<sup>k</sup> &lt; 1/L (the step size is below one over the Lipschitz constant).</li>
</ul>
<p>Then, <b>whatever the learned module returns</b> — a good network, a bad one, random noise — the
objective never goes up: Ψ(x<sup>k+1</sup>) ≤ Ψ(x<sup>k</sup>); the iterates stay bounded; and every
limit point of the iterates is a critical point of Ψ. (The paper states the exact standing
assumptions on f and g.)</p>
<p><b>What it does not say.</b> It does not promise a good image, nor anything when the conditions
fail (the explorer then shows them in red, and the certificate says from which iteration), nor
anything for the variants without the check: <i>unchecked</i>, <i>naive</i>. Plain proximal
gradient (<i>PG</i>) has its own classical guarantee under γ &lt; 1/L.</p>
<p><b>Beyond the paper.</b> This engine also rejects proposals that are not finite, that come from a
module that raised an error or returned the wrong shape, or that would raise Ψ; the reason of each
rejection is in the trace (<tt>reject_reason</tt>) and in the certificate panel.</p>
<p><b>Reference.</b> {html.escape(PAPER)}. <a href="{PAPER_URL}">{PAPER_URL}</a></p>
"""

SHORTCUTS = (
    ("Space", "Run / pause"),
    ("N", "Step: exactly one iteration of every variant"),
    ("→", "Next iterate: forward in the history, or one step at the newest"),
    ("←", "Previous iterate in the history (pauses a running run)"),
    ("R", "Reset: discard the run, back to x⁰"),
    ("Ctrl+O", "Open an image"),
    ("Ctrl+S", "Save the session"),
    ("Ctrl+E", "Export…"),
    ("Ctrl+T", "Open a study (the Study window)"),
    ("F1", "About the guarantee"),
    ("Ctrl+Q", "Quit"),
    ("Esc", "In a number box: restore its value and leave it"),
    ("Return", "In a number box: apply the value and leave it"),
)
IN_NUMBER_BOXES = (
    "Space, N and R work in a number box too (they are not numbers): it first applies what was "
    "typed. N is typed there only where it goes on to nan or inf."
)


def shortcuts_html() -> str:
    """The keyboard shortcuts as an HTML table."""
    rows = "".join(
        f"<tr><td><b>{html.escape(key)}</b></td><td>{html.escape(what)}</td></tr>"
        for key, what in SHORTCUTS
    )
    note = f"<p>{html.escape(IN_NUMBER_BOXES)}</p>"
    return f"<h2>Keyboard shortcuts</h2><table cellpadding='4'>{rows}</table>{note}"


class HelpDialog(QDialog):
    """A non-modal window showing rich text with clickable web links."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(620, 560)

    def text(self) -> str:
        """The plain text shown."""
        return self.browser.toPlainText()


class HelpWindows:
    """The Help menu's windows of one main window, made on first use and reused."""

    PAGES = {
        "guarantee": ("About the guarantee", lambda: GUARANTEE_HTML),
        "shortcuts": ("Keyboard shortcuts", shortcuts_html),
    }

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent
        self.dialogs: dict[str, HelpDialog] = {}

    def show(self, page: str) -> HelpDialog:
        """Show (and raise) the window of ``page``: ``guarantee`` or ``shortcuts``."""
        dialog = self.dialogs.get(page)
        if dialog is None:
            title, text = self.PAGES[page]
            dialog = self.dialogs[page] = HelpDialog(title, text(), self.parent)
        dialog.show()
        dialog.raise_()
        return dialog

    def close_all(self) -> None:
        """Close every open help window."""
        for dialog in self.dialogs.values():
            dialog.close()
