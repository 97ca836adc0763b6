"""Alarms (docs/requirements.md#alarms): every approved alarm exists, its
actions are enabled, and it notifies the alert topic. A deleted alarm is a
failure: nobody would be paged."""
from __future__ import annotations

from . import Finding, judge


def alarm(subject: str, live: dict | None, topics: set[str], want_actions: dict[str, list] | None = None,
          where: str = "") -> Finding:
    if live is None:
        return judge("alarms.present", subject, False, f"alarm {subject}" + (f" ({where})" if where else ""), "does not exist")
    problems = []
    if live.get("ActionsEnabled") is not True:
        problems.append(f"ActionsEnabled: expected true, actual {live.get('ActionsEnabled')}")
    for prop, want in (want_actions or {}).items():
        if sorted(want) != sorted(live.get(prop) or []):
            problems.append(f"{prop}: expected {want}, actual {live.get(prop) or []}")
    if not set(live.get("AlarmActions") or []) & topics:
        problems.append(f"AlarmActions: expected the alert topic {sorted(topics)}, actual {live.get('AlarmActions') or []}")
    return judge("alarms.routed", subject, not problems, "actions enabled, notifying the alert topic",
                 {k: live.get(k) for k in ("ActionsEnabled", "AlarmActions")}, "; ".join(problems))
