"""FIMA Explorer's desktop window (PySide6 + pyqtgraph). Imports ``core``, never the reverse.

Entry point: :func:`gui.app.main` (console script ``fima-explorer``).
"""
