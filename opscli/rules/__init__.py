"""Named pure rules: each takes what was expected and what a reader in
``opscli.live`` found, makes no call, and returns :class:`Finding` objects
(PASS / FAIL / N/A / WARN) carrying both as evidence. ``verify`` prints them
as its table; ``detect-drift`` prints the failures as drift rows.
Policy values a rule enforces whatever the template says are cited to
docs/requirements.md."""
from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Outcome(str, Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    NA = "N/A"     # the rule does not apply to this resource (nothing to judge)
    WARN = "WARN"  # not wrong, but needs a human


@dataclass(frozen=True)
class Finding:
    rule: str        # "api.route-authorization"
    subject: str     # the resource, by physical name
    outcome: Outcome
    expected: Any
    actual: Any
    note: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.FAIL

    def evidence(self) -> str:
        if self.outcome is Outcome.PASS and not self.note:
            return f"{show(self.actual)}"
        if "expected " in self.note:  # the rule already said what differs, value by value
            return self.note
        text = f"expected {show(self.expected)}, actual {show(self.actual)}"
        return f"{self.note}: {text}" if self.note else text


def show(value: Any, limit: int = 400) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def judge(rule: str, subject: str, ok: bool, expected: Any, actual: Any, note: str = "") -> Finding:
    return Finding(rule, subject, Outcome.PASS if ok else Outcome.FAIL, expected, actual, note)


def not_applicable(rule: str, subject: str, why: str) -> Finding:
    return Finding(rule, subject, Outcome.NA, None, None, why)
