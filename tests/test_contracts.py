"""Architecture contracts: core never imports Qt; the README's scripting example runs."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_core_imports_no_qt():
    code = (
        "import sys, core, core.cli, core.algorithm, core.tasks, core.session, core.outputs\n"
        "from core.tasks import build_task\n"
        "build_task('deblur', module='tv')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'gui')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_readme_example_runs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    example = next(b for b in blocks if "iterate(" in b)
    example = example.replace('module="cnn"', 'module="tv"').replace("max_iter=30", "max_iter=3")
    proc = subprocess.run(
        [sys.executable, "-c", example], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip(), "the example prints its records"
