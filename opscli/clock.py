"""Time, injected: the nonce grace period is tested at chosen instants
(``FixedClock``), never by sleeping."""
from __future__ import annotations

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
    """``1700000000`` or ``2026-11-22T10:00:00Z``."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ValueError(f"not an epoch or ISO-8601 time: {text!r}") from None
