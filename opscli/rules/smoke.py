"""What the smoke test accepts as an answer (docs/requirements.md#verify-and-drift)."""
from __future__ import annotations

from . import Finding, judge


def invalid_nonce_refused(status: int, body: str) -> Finding:
    """A request with a wrong nonce is refused by the Oracle (4xx). A 5xx is a
    broken Oracle, not a refusal; a 2xx let an unauthenticated write through."""
    return judge("smoke.invalid-nonce", "POST /events with an invalid nonce", 400 <= status < 500,
                 "4xx", f"{status} {body[:200]}")
