"""Every GCP alert policy links its own section of docs/runbooks/gcp.md, and
the section exists and says what a runbook must say. Read from the
synthesized Terraform JSON of both environments."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from constructs_lib.gcp.monitoring import Severity, runbook_anchor
from tests.test_citations import anchors_of, github_slug

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "docs" / "runbooks" / "gcp.md"
LINK = re.compile(r"Runbook: docs/runbooks/gcp\.md#([a-z0-9_-]+) ")


def alerts(gcp_synth):
    for env, synth in gcp_synth.items():
        for name, policy in synth.resources("google_monitoring_alert_policy").items():
            yield env.value, policy["display_name"], policy


def sections() -> dict[str, str]:
    """anchor -> the text up to the next heading of the same or a higher level."""
    text = RUNBOOK.read_text()
    parts = re.split(r"^(#{2,3} .+)$", text, flags=re.M)
    return {github_slug(parts[i].lstrip("#").strip()): parts[i + 1] for i in range(1, len(parts), 2)}


def test_every_alert_links_a_heading_that_exists(gcp_synth):
    anchors = anchors_of(RUNBOOK.read_text())
    found = 0
    for env, title, policy in alerts(gcp_synth):
        content = policy["documentation"]["content"]
        match = LINK.search(content)
        assert match, f"{env}: {title}: no runbook link in its documentation: {content!r}"
        assert match.group(1) in anchors, f"{env}: {title}: docs/runbooks/gcp.md has no heading #{match.group(1)}"
        found += 1
    # Both stacks: at least the 16 policies staging had when this test was written.
    assert found >= 2 * 15


def test_each_alert_has_its_own_section(gcp_synth):
    """Within one environment, two policies share a section only when they
    are the same alert for two services (an SLO kind and speed)."""
    for env in {e for e, _, _ in alerts(gcp_synth)}:
        by_anchor: dict[str, list[str]] = {}
        for e, title, policy in alerts(gcp_synth):
            if e == env:
                by_anchor.setdefault(LINK.search(policy["documentation"]["content"]).group(1), []).append(title)
        for anchor, titles in by_anchor.items():
            if len(titles) > 1:
                assert anchor.startswith("slo-"), f"{env}: {titles} share #{anchor}"


def test_every_alert_section_says_what_it_means_first_checks_and_mitigation(gcp_synth):
    text = sections()
    for anchor in {LINK.search(p["documentation"]["content"]).group(1) for _, _, p in alerts(gcp_synth)}:
        body = text[anchor]
        for part in ("**means:**", "first checks", "mitigation"):
            assert part in body.lower(), f"docs/runbooks/gcp.md#{anchor} lacks {part}"
    whole = RUNBOOK.read_text()
    assert "Escalation" in whole


def test_procedures_and_restore_are_there():
    names = set(sections())
    assert {"restart-scale-roll-back-a-service", "failover", "restore-cloud-sql", "restore-firestore",
            "restore-redis-what-a-failover-loses"} <= names
    redis = sections()["restore-redis-what-a-failover-loses"]
    assert "every key is lost" in redis and "reconnect" in redis


@pytest.mark.parametrize("title,severity,anchor", [
    ("md-staging-api availability SLO burning 14.4x over 1 h", Severity.CRITICAL, "slo-availability-fast-burn"),
    ("md-prod-websocket availability SLO burning 6.0x over 6 h", Severity.WARNING, "slo-availability-slow-burn"),
    ("md-prod-api latency SLO burning 14.4x over 1 h and 5 min", Severity.CRITICAL, "slo-latency-fast-burn"),
    ("Memorystore system memory pressure (out of memory risk)", Severity.CRITICAL,
     "memorystore-system-memory-pressure-out-of-memory-risk"),
    ("api uptime check failing", Severity.CRITICAL, "api-uptime-check-failing"),
])
def test_anchor_is_the_same_in_every_environment(title, severity, anchor):
    prefix = "md-prod-" if "md-prod" in title else "md-staging-"
    assert runbook_anchor(title, severity, prefix) == anchor


def test_an_alert_without_a_section_is_caught(gcp_synth):
    anchors = anchors_of(RUNBOOK.read_text())
    assert runbook_anchor("Redis evictions", Severity.WARNING, "md-staging-") not in anchors
