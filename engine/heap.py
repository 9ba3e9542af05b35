"""A serving process's engine lives as long as the process: its objects are kept out of the cyclic garbage
collector's full passes, whose pause otherwise grows with the catalog (every title's objects walked again
and again for nothing) and lands on whichever request allocates at the time: rows' p99."""

from __future__ import annotations

import gc


def freeze_loaded() -> None:
    """Collect what loading left behind, then move every object alive now to the permanent generation
    (gc.freeze): never collected, never walked again. For a process whose engine is loaded once and
    kept; one that loads engines over and over would keep each one for good."""
    gc.collect()
    gc.freeze()
