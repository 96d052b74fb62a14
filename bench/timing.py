"""Timing shared by the benchmark scripts (imported as ``bench.timing``; the scripts put the
project root on ``sys.path``)."""

from __future__ import annotations

import math
import statistics
import time

from django.db import OperationalError


def median_ms(call, runs: int) -> float:
    """The median of ``runs`` timed calls after one warm-up, in ms; ``inf`` when the warm-up
    hits the statement timeout (a query that would take minutes is reported, not waited for)."""
    try:
        call()
    except OperationalError:
        return math.inf
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)
