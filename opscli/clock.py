"""Time, injected: the nonce grace period is tested at chosen instants
(``FixedClock``), never by sleeping."""
from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""


class SystemClock:
    def now(self) -> float:
        return time.time()


class FixedClock:
    def __init__(self, at: float):
        self.at = float(at)

    def now(self) -> float:
        return self.at


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str) -> float:
    """``1700000000`` or ``2026-11-22T10:00:00Z``; a finite instant only (docs/requirements.md#operator-input).

    ``float`` also reads ``inf``, ``-inf`` and ``nan``: ``-inf`` would judge a
    nonce before every grace period ended (an expired previous nonce accepted),
    ``nan`` compares false with everything. They are refused.
    """
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is not None:
        if not math.isfinite(value):
            raise ValueError(f"not a finite time: {text!r} (epoch seconds or ISO-8601)")
        return value
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ValueError(f"not an epoch or ISO-8601 time: {text!r}") from None
