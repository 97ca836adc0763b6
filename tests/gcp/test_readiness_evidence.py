"""Readiness gates are backed by the synthesized resources whose properties
prove them: removing (or weakening) the resource turns the PASS into FAIL,
and a resource that only carries a suggestive name proves nothing.

Beside tests/gcp/test_readiness.py because it needs both apps' synthesized
output (the session fixtures of tests/conftest.py and tests/gcp/conftest.py).
"""
from __future__ import annotations

import copy

import pytest

from envconfig.aws import load
from opscli import readiness
from opscli.readiness import Artifacts, Verdict, evaluate, load_artifacts


@pytest.fixture(scope="module")
def staging(aws_app, gcp_synth):
    from envconfig.gcp import Environment

    config = load("staging")
    gcp = gcp_synth[Environment.STAGING]
    return config, load_artifacts(config, cdk_out=aws_app.outdir, cdktf_out=gcp.path.parents[2])


def verdicts(config, found) -> dict[str, tuple[Verdict, str]]:
    return {g.name: (g.verdict, g.evidence) for g in evaluate(found, config)}


def mutate(found: Artifacts, *, aws=None, gcp=None) -> Artifacts:
    templates, tf = copy.deepcopy(found.aws), copy.deepcopy(found.gcp)
    if aws:
        aws(templates)
    if gcp:
        gcp(tf)
    return Artifacts(templates, tf, found.roots)


def resources(templates, type_):
    return [(stack, lid, r) for stack, t in templates.items() for lid, r in t["Resources"].items() if r["Type"] == type_]


def test_backups_fail_when_the_selection_or_a_rule_is_removed(staging):
    config, found = staging
    assert verdicts(config, found)["automated backups enabled"][0] is Verdict.PASS

    def drop_selection(templates):
        for stack, lid, _ in resources(templates, "AWS::Backup::BackupSelection"):
            del templates[stack]["Resources"][lid]
    verdict, evidence = verdicts(config, mutate(found, aws=drop_selection))["automated backups enabled"]
    assert verdict is Verdict.FAIL and "tables in no backup selection: ['" in evidence

    def no_retention(templates):
        for _, _, plan in resources(templates, "AWS::Backup::BackupPlan"):
            for rule in plan["Properties"]["BackupPlan"]["BackupPlanRule"]:
                rule.pop("Lifecycle", None)
    assert verdicts(config, mutate(found, aws=no_retention))["automated backups enabled"][0] is Verdict.FAIL


def test_a_trail_that_does_not_log_fails_the_audit_gate(staging):
    config, found = staging
    assert verdicts(config, found)["audit trail (who accessed what, when)"][0] is Verdict.PASS

    def stop(templates):
        for _, _, trail in resources(templates, "AWS::CloudTrail::Trail"):
            trail["Properties"]["IsLogging"] = False
    assert verdicts(config, mutate(found, aws=stop))["audit trail (who accessed what, when)"][0] is Verdict.FAIL


def test_session_failure_alert_needs_a_policy_on_connections_not_a_name(staging):
    config, found = staging

    assert verdicts(config, found)["alert: auth/redis session failures"][0] is Verdict.PASS  # the stack's own alert

    def misleading_name(tf):
        policies = tf["resource"]["google_monitoring_alert_policy"]
        for name in [n for n, p in policies.items() if "reject_connections_count" in str(p["conditions"])]:
            del policies[name]  # the real one gone; the memory alerts renamed to look like it
        for policy in policies.values():
            if "redis" in str(policy["conditions"]):
                policy["display_name"] = "Redis auth/session failures"
    verdict, evidence = verdicts(config, mutate(found, gcp=misleading_name))["alert: auth/redis session failures"]
    assert verdict is Verdict.FAIL, evidence  # a memory-usage condition is not a session failure, whatever its name

    def real_alert(tf):
        tf["resource"]["google_monitoring_alert_policy"]["Sessions"] = {
            "display_name": "x", "notification_channels": ["c"], "conditions": [{"condition_threshold": {
                "filter": 'resource.type = "redis_instance" AND metric.type = "redis.googleapis.com/stats/reject_connections_count"'}}]}
    assert verdicts(config, mutate(found, gcp=real_alert))["alert: auth/redis session failures"][0] is Verdict.PASS


def test_migrations_gate_is_the_rollout_order_not_a_file(staging, monkeypatch):
    config, found = staging
    verdict, evidence = verdicts(config, found)["migrations job exists and runs before the services"]
    assert verdict is Verdict.PASS and "with --wait before updating" in evidence
    from opscli import gcp_rollout

    original = gcp_rollout.plan

    def services_first(gcp_config, tag):
        steps = original(gcp_config, tag)
        services = [s for s in steps if s.argv[:3] == ("gcloud", "run", "services")]
        return services + [s for s in steps if s not in services]
    monkeypatch.setattr(gcp_rollout, "plan", services_first)
    verdict, evidence = verdicts(config, found)["migrations job exists and runs before the services"]
    assert verdict is Verdict.FAIL and "updated before it" in evidence
    monkeypatch.setattr(gcp_rollout, "plan", original)
    no_job = mutate(found, gcp=lambda tf: tf["resource"].pop("google_cloud_run_v2_job"))
    assert verdicts(config, no_job)["migrations job exists and runs before the services"][0] is Verdict.FAIL


def test_nonce_rotation_gate_needs_the_grace_companion_in_the_read_policy(staging):
    config, found = staging
    name = "nonce rotates with a grace period the Oracle honours"
    assert verdicts(config, found)[name][0] is Verdict.PASS

    def drop_companion(templates):
        for _, _, policy in resources(templates, "AWS::IAM::ManagedPolicy"):
            text = readiness.json.dumps(policy["Properties"]["PolicyDocument"]).replace(config.nonce_rotation_parameter, "/other")
            policy["Properties"]["PolicyDocument"] = readiness.json.loads(text)
    assert verdicts(config, mutate(found, aws=drop_companion))[name][0] is Verdict.FAIL


def test_key_rotation_off_fails(staging):
    config, found = staging

    def off(templates):
        _, _, key = resources(templates, "AWS::KMS::Key")[0]
        key["Properties"]["EnableKeyRotation"] = False
    verdict, evidence = verdicts(config, mutate(found, aws=off))["encryption keys rotate"]
    assert verdict is Verdict.FAIL and "AWS keys without rotation: ['" in evidence


def test_manual_gates_name_a_document(staging):
    config, found = staging
    manual = [g for g in evaluate(found, config) if g.verdict is Verdict.MANUAL]
    assert manual and all(": see docs/" in g.evidence for g in manual)
