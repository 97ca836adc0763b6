"""Production-readiness report: the readiness gates evaluated on the synthesized templates.

Reads the AWS cloud assembly (``cdk.out``, from ``bin/synth``) and the GCP
Terraform JSON (``cdktf.out/stacks/gcp-<env>/cdk.tf.json``) and prints one
line per gate: PASS or FAIL with the evidence found. A PASS is backed by
the synthesized resource whose properties prove the gate (an alert policy
*on a Redis connection metric*, not one whose name mentions Redis; the
rollout's own step order, not the existence of its file), and the evidence
names it. Gates about people, process or the application's own behaviour
(sign-offs, tabletop exercises, restore timings, a controlled alert on the
live environment) are MANUAL and name the document where they are done and
recorded; ``tests/ops/test_readiness_evidence.py`` checks every such path
exists. Exit 1 if any gate fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from envconfig.aws import AwsConfig
from envconfig.contract import default_contract
from gates.secret_scan import scan

from . import assembly as cloud_assembly
from .errors import OpsError
from .recovery_readiness import recovery_gates
from .rules.gate import Artifacts, Gate, Verdict, gate  # noqa: F401  (re-exported for callers)
from .rules.trail import audit_trail, passes

ROOT = Path(__file__).resolve().parent.parent


def load_artifacts(config: AwsConfig, *, cdk_out: Path = ROOT / "cdk.out", cdktf_out: Path = ROOT / "cdktf.out") -> Artifacts:
    manifest = cdk_out / f"assembly-{config.name.stage_id}" / "manifest.json"
    tf = cdktf_out / "stacks" / f"gcp-{config.name.value}" / "cdk.tf.json"
    for path in (manifest, tf):
        if not path.exists():
            raise OpsError(f"{path} is missing: run bin/synth first")
    try:  # the one cloud-assembly reader: what readiness inspects is what a deploy would read
        stage = cloud_assembly.read(cdk_out).stage(config.name.stage_id)
    except cloud_assembly.AssemblyError as exc:
        raise OpsError(str(exc)) from None
    aws = {stack.short: stack.template for stack in stage.stacks.values()}
    return Artifacts(aws, json.loads(tf.read_text()), (manifest.parent, tf.parent))


_gate = gate


def _manual(section: str, name: str, document: str, what: str) -> Gate:
    """A gate no template can prove: where it is done and recorded (the path must exist)."""
    return Gate(section, name, Verdict.MANUAL, f"{what}: see {document}")


def _flat(value) -> str:
    """A resource's properties as one string, intrinsics included, for searching metric names."""
    return json.dumps(value, sort_keys=True)


def _env_of(service: dict) -> list[dict]:
    return [e for c in service.get("template", {}).get("containers", []) for e in c.get("env", [])]


def security_gates(a: Artifacts, config: AwsConfig) -> list[Gate]:
    leaks = [f"{p.name}: {kind}" for p, kind in scan(a.roots)]
    services = {**a.gcp_resources("google_cloud_run_v2_service"), **a.gcp_resources("google_cloud_run_v2_job")}
    origins = [e.get("value", "") for s in services.values() for e in _env_of(s) if e["name"] == "TRUSTED_ORIGINS"]
    trails = list(a.aws_resources("AWS::CloudTrail::Trail"))
    judged = {f"{s}/{lid}": audit_trail(f"{s}/{lid}", t["Properties"]) for s, lid, t in trails}
    trail_ok = any(passes(findings) for findings in judged.values())
    missing = sorted(f.subject for findings in judged.values() for f in findings if f.failed)
    retention = [r["Properties"].get("RetentionInDays") for _, _, r in a.aws_resources("AWS::Logs::LogGroup")]
    return [
        _gate("Security", "secret values never in synthesized output", not leaks, "; ".join(leaks) or f"scanned {', '.join(str(r) for r in a.roots)}: none"),
        _gate("Security", "trusted origins locked down (no wildcard)", bool(origins) and not any("*" in o for o in origins),
              f"TRUSTED_ORIGINS = {sorted(set(origins))}" if origins else "no service sets TRUSTED_ORIGINS"),
        _gate("Security", "audit trail (who accessed what, when)", trail_ok,
              f"{sorted(judged)}: logging, multi-region, log-file validation and KMS all set: {trail_ok}"
              + (f"; not set: {missing}" if missing else "")),
        _gate("Security", "log retention defined", bool(retention) and all(retention), f"log groups retain {sorted(set(map(str, retention)))} days"),
        _manual("Security", "PII logging policy, meeting-prep disclaimer, deletion pathway", "docs/readiness.md",
                "application behaviour, proven by the product's own tests"),
    ]


def _migrations_first(a: Artifacts, config: AwsConfig) -> tuple[bool, str]:
    """The synthesized job is the one the rollout executes and waits for before it updates any synthesized service."""
    from envconfig.gcp import load_environment

    from .gcp_rollout import plan, probe_digests

    jobs = {j["name"] for j in a.gcp_resources("google_cloud_run_v2_job").values()}
    services = {s["name"] for s in a.gcp_resources("google_cloud_run_v2_service").values()}
    if not jobs:
        return False, "no Cloud Run job in the GCP stack"
    steps = [step.argv for step in plan(load_environment(config.name.value), probe_digests())]
    executes = [i for i, argv in enumerate(steps) if argv[2:4] == ("jobs", "execute") and argv[4] in jobs and "--wait" in argv]
    updates = {argv[4]: i for i, argv in enumerate(steps) if argv[2:4] == ("services", "update")}
    if not executes:
        return False, f"bin/gcp-rollout never executes (and waits for) the synthesized job {sorted(jobs)}"
    late = sorted(name for name, i in updates.items() if i < executes[0])
    missing = sorted(services - set(updates))
    ok = not late and not missing
    return ok, (f"bin/gcp-rollout step {executes[0] + 1} runs job {steps[executes[0]][4]} with --wait before updating "
                f"{sorted(updates)}" + (f"; updated before it: {late}" if late else "")
                + (f"; synthesized services it never updates: {missing}" if missing else ""))


def _backups(a: Artifacts) -> tuple[bool, str]:
    tables = {lid: t for _, lid, t in a.aws_resources("AWS::DynamoDB::GlobalTable")}
    pitr = sorted(lid for lid, t in tables.items()
                  if not all(r.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") for r in t["Properties"]["Replicas"]))
    rules = [r for _, _, p in a.aws_resources("AWS::Backup::BackupPlan") for r in p["Properties"]["BackupPlan"].get("BackupPlanRule", [])]
    scheduled = [r["RuleName"] for r in rules if r.get("ScheduleExpression") and r.get("Lifecycle", {}).get("DeleteAfterDays", 0) >= 1]
    selected = {ref["Fn::GetAtt"][0] for _, _, sel in a.aws_resources("AWS::Backup::BackupSelection")
                for ref in sel["Properties"]["BackupSelection"].get("Resources", []) if isinstance(ref, dict) and "Fn::GetAtt" in ref}
    unselected = sorted(set(tables) - selected)
    sql = list(a.gcp_resources("google_sql_database_instance").values())
    sql_backups = [s["settings"].get("backup_configuration", {}) for s in sql]
    sql_ok = bool(sql) and all(b.get("enabled") and b.get("point_in_time_recovery_enabled") for b in sql_backups)
    ok = bool(tables) and not pitr and bool(scheduled) and not unselected and sql_ok
    return ok, (f"{len(tables)} tables, PITR off on {pitr or 'none'}; AWS Backup rules with schedule and retention {scheduled}; "
                f"tables in no backup selection: {unselected or 'none'}; Cloud SQL backups+PITR: {sql_ok}")


def ops_gates(a: Artifacts, config: AwsConfig) -> list[Gate]:
    migrations_ok, migrations = _migrations_first(a, config)
    backups_ok, backups = _backups(a)
    aws_keys = {lid: k["Properties"].get("EnableKeyRotation") for _, lid, k in a.aws_resources("AWS::KMS::Key")}
    gcp_keys = {name: k.get("rotation_period") for name, k in a.gcp_resources("google_kms_crypto_key").items()}
    securestrings = [lid for _, lid, r in a.aws_resources("AWS::SSM::Parameter") if r["Properties"].get("Type") == "SecureString"]
    services = {**a.gcp_resources("google_cloud_run_v2_service"), **a.gcp_resources("google_cloud_run_v2_job")}
    contract = default_contract()
    secret_names = {n for service in contract.services.values() for n in service.secrets}
    plain_secrets = sorted({e["name"] for svc in services.values() for e in _env_of(svc) if e["name"] in secret_names and "value" in e})
    read_policies = [_flat(p["Properties"].get("PolicyDocument")) for _, _, p in a.aws_resources("AWS::IAM::ManagedPolicy")]
    grace = any(config.nonce_parameter in doc and config.nonce_rotation_parameter in doc for doc in read_policies)
    oracle_env = [f["Properties"].get("Environment", {}).get("Variables", {}) for _, _, f in a.aws_resources("AWS::Lambda::Function")]
    reads_nonce = any(v.get("NONCE_SSM") == config.nonce_parameter for v in oracle_env)
    return [
        _gate("Ops", "migrations job exists and runs before the services", migrations_ok, migrations),
        _gate("Ops", "automated backups enabled", backups_ok, backups),
        _manual("Ops", "restore procedure documented and time-estimated", "docs/runbooks/restore.md",
                "a restore drill's measured duration (bin/ops restore-drill)"),
        _gate("Ops", "secrets from a secret manager", not securestrings and not plain_secrets and bool(services),
              f"SecureStrings in templates: {securestrings or 'none'} (created by bin/ops); contract secrets passed as plain "
              f"values on GCP: {plain_secrets or 'none'}"),
        _gate("Ops", "encryption keys rotate", bool(aws_keys) and all(aws_keys.values()) and bool(gcp_keys) and all(gcp_keys.values()),
              f"AWS keys without rotation: {sorted(k for k, v in aws_keys.items() if not v) or 'none'}; GCP keys without "
              f"rotation_period: {sorted(k for k, v in gcp_keys.items() if not v) or 'none'}"),
        _gate("Ops", "nonce rotates with a grace period the Oracle honours", grace and reads_nonce,
              f"a read policy grants {config.nonce_parameter} and {config.nonce_rotation_parameter}: {grace}; "
              f"the Oracle reads NONCE_SSM={config.nonce_parameter}: {reads_nonce}"),
        _manual("Ops", "secret rotation plan", "docs/runbooks/nonce-rotation.md", "when and how each secret is rotated"),
    ]


def contract_gates(a: Artifacts, config: AwsConfig) -> list[Gate]:
    contract = default_contract()
    gates = []
    services = {**a.gcp_resources("google_cloud_run_v2_service"), **a.gcp_resources("google_cloud_run_v2_job")}
    all_names = {e["name"] for s in services.values() for e in _env_of(s)}
    oracle = {n for _, _, f in a.aws_resources("AWS::Lambda::Function") for n in f["Properties"].get("Environment", {}).get("Variables", {})}
    allowed = {n for s in contract.services.values() for n in s.variables}
    gates.append(_gate("Env contract", "every deployed variable is a contract name", bool(all_names | oracle) and (all_names | oracle) <= allowed,
                       f"outside the contract: {sorted((all_names | oracle) - allowed) or 'none'}"))
    for name, wrong in (("BETTER_AUTH_SECRET", "AUTH_SECRET"), ("KV_REDIS_URL", "REDIS_URL"), ("KV_REDIS_PASSWORD", None)):
        refs = [e for s in services.values() for e in _env_of(s) if e["name"] == name]
        as_secret = bool(refs) and all("value_source" in e and "value" not in e for e in refs)
        gates.append(_gate("Env contract", f"{name} injected from Secret Manager" + (f" (not {wrong})" if wrong else ""),
                           as_secret and (wrong is None or wrong not in all_names),
                           f"{len(refs)} service(s) get it as a secret reference: {as_secret}" + (f"; {wrong} present: {wrong in all_names}" if wrong else "")))
    redis = list(a.gcp_resources("google_redis_instance").values())
    versions = [v.get("secret_data_wo", v.get("secret_data", "")) for v in a.gcp_resources("google_secret_manager_secret_version").values()]
    gates.append(_gate("Env contract", "KV_REDIS_PASSWORD is non-empty (Redis AUTH on, secret fed from it)",
                       bool(redis) and all(r.get("auth_enabled") for r in redis) and any("auth_string" in v for v in versions),
                       f"Redis auth_enabled={[r.get('auth_enabled') for r in redis]}; secret version from auth_string: {any('auth_string' in v for v in versions)}"))
    return gates


def _gcp_policies(a: Artifacts, *needles: str) -> list[str]:
    """GCP alert policies with a condition on one of these metric types / filters."""
    found = []
    for policy in a.gcp_resources("google_monitoring_alert_policy").values():
        text = _flat(policy.get("conditions", []))
        if any(n in text for n in needles):
            found.append(policy["display_name"])
    return found


def _aws_alarms(a: Artifacts, metric: str, namespace: str) -> list[str]:
    """AWS alarms on this metric (plain or inside metric math), compared with GreaterThan."""
    found = []
    for _, _, alarm in a.aws_resources("AWS::CloudWatch::Alarm"):
        props = alarm["Properties"]
        text = _flat({k: props.get(k) for k in ("MetricName", "Namespace", "Metrics")})
        if f'"{metric}"' in text and f'"{namespace}"' in text and props.get("ComparisonOperator", "").startswith("GreaterThan"):
            found.append(props.get("AlarmName", "?"))
    return found


def observability_gates(a: Artifacts, config: AwsConfig) -> list[Gate]:
    aws_dash = " ".join(_flat(d["Properties"].get("DashboardBody")) for _, _, d in a.aws_resources("AWS::CloudWatch::Dashboard"))
    gcp_dash = " ".join(d.get("dashboard_json", "") for d in a.gcp_resources("google_monitoring_dashboard").values())
    panels = {"API latency": "request_latencies" in gcp_dash and "Latency" in aws_dash,
              "API errors": "request_count" in gcp_dash and "Errors" in aws_dash,
              "DB saturation": "cloudsql.googleapis.com" in gcp_dash and "DynamoDB" in aws_dash,
              "Redis saturation": "redis.googleapis.com" in gcp_dash}
    jobs = [j["name"] for j in a.gcp_resources("google_cloud_run_v2_job").values()]
    errors = _aws_alarms(a, "Errors", "AWS/Lambda") + _gcp_policies(a, "5xx")
    latency = _aws_alarms(a, "Latency", "AWS/ApiGateway") + _gcp_policies(a, "run.googleapis.com/request_latencies")
    migrations = [p["display_name"] for p in a.gcp_resources("google_monitoring_alert_policy").values()
                  if "cloud_run_job" in _flat(p.get("conditions")) and any(j in _flat(p.get("conditions")) for j in jobs)]
    # Session failures show as refused or dropped Redis clients, or as the auth service's own failure metric;
    # memory usage is saturation, not a session failure.
    sessions = _gcp_policies(a, "redis.googleapis.com/stats/reject_connections_count", "redis.googleapis.com/clients/connected",
                             "redis.googleapis.com/stats/connections/total", "logging.googleapis.com/user/auth")
    routed_aws = [al["Properties"].get("AlarmName") for _, _, al in a.aws_resources("AWS::CloudWatch::Alarm")
                  if not al["Properties"].get("AlarmActions")]
    routed_gcp = [p["display_name"] for p in a.gcp_resources("google_monitoring_alert_policy").values() if not p.get("notification_channels")]
    subscriptions = list(a.aws_resources("AWS::SNS::Subscription"))
    checks = [
        ("dashboards: API latency/errors, DB/Redis saturation", all(panels.values()), f"panels found: {panels}"),
        ("alert: high error rate", bool(errors), f"alarms/policies on Lambda Errors or Cloud Run 5xx: {errors}"),
        ("alert: elevated latency", bool(latency), f"alarms/policies on API Gateway Latency or Cloud Run request_latencies: {latency}"),
        ("alert: migrations failures", bool(migrations), f"policies on the migrations job {jobs}: {migrations}"),
        ("alert: auth/redis session failures", bool(sessions),
         f"policies on Redis rejected/dropped connections or an auth failure metric: {sessions or 'none'}"),
        ("alert routing configured", not routed_aws and not routed_gcp and bool(subscriptions),
         f"AWS alarms without actions: {routed_aws or 'none'}; {len(subscriptions)} SNS subscription(s); "
         f"GCP policies without channels: {routed_gcp or 'none'}"),
    ]
    return [_gate("Observability", name, ok, evidence) for name, ok, evidence in checks] + [
        _manual("Observability", "alert routing tested with a controlled alert", "docs/runbooks/incident.md",
                "bin/ops test-alarm --env <env> on the live environment, result recorded")]


SECTIONS: tuple[Callable[[Artifacts, AwsConfig], list[Gate]], ...] = (security_gates, ops_gates, contract_gates, observability_gates)


SECTIONS += (recovery_gates,)


def evaluate(artifacts: Artifacts, config: AwsConfig) -> list[Gate]:
    return [gate for section in SECTIONS for gate in section(artifacts, config)]


def render(gates: list[Gate]) -> str:
    width = max(len(g.name) for g in gates)
    lines = [f"{'':7}{'gate':<{width}}  evidence"]
    for g in gates:
        lines.append(f"{g.verdict.value:<7}{g.name:<{width}}  [{g.section}] {g.evidence}")
    counts = {v: sum(g.verdict is v for g in gates) for v in Verdict}
    lines.append(f"readiness: {counts[Verdict.PASS]} PASS, {counts[Verdict.FAIL]} FAIL, {counts[Verdict.MANUAL]} MANUAL")
    return "\n".join(lines)
