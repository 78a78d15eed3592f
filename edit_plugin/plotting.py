"""matplotlib is optional (the `plots` extra): every plot goes through here,
so that without it the tables are still written and the user is told why
there is no picture."""

from __future__ import annotations

import sys
from pathlib import Path

INSTALL_HINT = "matplotlib is not installed (pip install 'edit-plugin[plots]')"


def pyplot_for(path: str | Path):
    """matplotlib.pyplot on the file-only Agg backend, or None (after saying
    on stderr that ``path`` will not be written) when matplotlib is missing."""
    try:
        import matplotlib
    except ImportError:
        print(f"edit-cot: no {Path(path).name}: {INSTALL_HINT}", file=sys.stderr)
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
