"""Who receives the alerts (docs/requirements.md#alarms): exactly the
approved subscriptions. An extra one is a failure (alerts leak to it); one
still pending confirmation is a warning (only its recipient can confirm)."""
from __future__ import annotations

from ..live.sns import Subscription
from . import Finding, Outcome, judge

PENDING = ("PendingConfirmation", "pending confirmation")


def subscriptions(subject: str, want: set[tuple[str, str]], live: tuple[Subscription, ...]) -> list[Finding]:
    findings = []
    seen = {(s.protocol, s.endpoint): s for s in live}
    for key in sorted(set(seen) - want):
        findings.append(judge("sns.subscriptions", f"{subject} subscription {key[0]}:{key[1]}", False,
                              "no such subscription (not approved)", "subscribed"))
    for key in sorted(want):
        sub, name = seen.get(key), f"{subject} subscription {key[0]}:{key[1]}"
        if sub is None:
            findings.append(judge("sns.subscriptions", name, False, "subscribed", "no subscription"))
        elif sub.arn in PENDING:
            findings.append(Finding("sns.subscriptions", name, Outcome.WARN, "confirmed", "pending confirmation",
                                    "the recipient must confirm the e-mail"))
        else:
            findings.append(judge("sns.subscriptions", name, True, "subscribed", f"confirmed ({sub.arn})"))
    return findings
