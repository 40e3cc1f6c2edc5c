"""``python -m gui``: the same as ``fima-explorer``."""

import sys

from .app import main

sys.exit(main())
