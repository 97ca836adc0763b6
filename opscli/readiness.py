"""Production-readiness report: seed 003's gates evaluated on the synthesized templates.

Reads the AWS cloud assembly (``cdk.out``, from ``bin/synth``) and the GCP
Terraform JSON (``cdktf.out/stacks/gcp-<env>/cdk.tf.json``) and prints one
line per gate: PASS or FAIL with the evidence found. Gates that are about
people and process (sign-offs, tabletop exercises, isolation tests of the
application) are listed as MANUAL: no template can prove them. Exit 1 if any
gate fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Callable, Iterator

from envconfig.aws import AwsEnvironment
from envconfig.contract import default_contract
from gates.secret_scan import scan

from .errors import OpsError

ROOT = Path(__file__).resolve().parent.parent


class Verdict(str, Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    MANUAL = "MANUAL"


@dataclass(frozen=True)
class Gate:
    section: str
    name: str
    verdict: Verdict
    evidence: str


@dataclass(frozen=True)
class Artifacts:
    """The synthesized output of one environment on both clouds."""

    aws: dict[str, dict]   # stack id -> CloudFormation template
    gcp: dict              # Terraform JSON
    roots: tuple[Path, ...]

    def aws_resources(self, type_: str) -> Iterator[tuple[str, str, dict]]:
        for stack, template in self.aws.items():
            for logical_id, resource in template.get("Resources", {}).items():
                if resource["Type"] == type_:
                    yield stack, logical_id, resource

    def gcp_resources(self, type_: str) -> dict[str, dict]:
        return self.gcp.get("resource", {}).get(type_, {})


def load_artifacts(config: AwsEnvironment, *, cdk_out: Path = ROOT / "cdk.out", cdktf_out: Path = ROOT / "cdktf.out") -> Artifacts:
    manifest = cdk_out / f"assembly-{config.name.stage_id}" / "manifest.json"
    tf = cdktf_out / "stacks" / f"gcp-{config.name.value}" / "cdk.tf.json"
    for path in (manifest, tf):
        if not path.exists():
            raise OpsError(f"{path} is missing: run bin/synth first")
    artifacts = json.loads(manifest.read_text())["artifacts"]
    aws = {}
    for artifact in artifacts.values():
        if artifact["type"] == "aws:cloudformation:stack":
            stack_id = artifact["displayName"].split("/")[-1]
            aws[stack_id] = json.loads((manifest.parent / artifact["properties"]["templateFile"]).read_text())
    return Artifacts(aws, json.loads(tf.read_text()), (manifest.parent, tf.parent))


def _gate(section: str, name: str, ok: bool, evidence: str) -> Gate:
    return Gate(section, name, Verdict.PASS if ok else Verdict.FAIL, evidence)


def _env_of(service: dict) -> list[dict]:
    return [e for c in service.get("template", {}).get("containers", []) for e in c.get("env", [])]


def security_gates(a: Artifacts, config: AwsEnvironment) -> list[Gate]:
    leaks = [f"{p.name}: {kind}" for p, kind in scan(a.roots)]
    services = {**a.gcp_resources("google_cloud_run_v2_service"), **a.gcp_resources("google_cloud_run_v2_job")}
    origins = [e.get("value", "") for s in services.values() for e in _env_of(s) if e["name"] == "TRUSTED_ORIGINS"]
    trails = list(a.aws_resources("AWS::CloudTrail::Trail"))
    trail_ok = any(t["Properties"].get("EnableLogFileValidation") and t["Properties"].get("IsMultiRegionTrail") for _, _, t in trails)
    retention = [r["Properties"].get("RetentionInDays") for _, _, r in a.aws_resources("AWS::Logs::LogGroup")]
    return [
        _gate("Security", "secret values never in synthesized output", not leaks, "; ".join(leaks) or f"scanned {', '.join(str(r) for r in a.roots)}: none"),
        _gate("Security", "trusted origins locked down (no wildcard)", bool(origins) and not any("*" in o for o in origins),
              f"TRUSTED_ORIGINS = {sorted(set(origins))}" if origins else "no service sets TRUSTED_ORIGINS"),
        _gate("Security", "audit trail (who accessed what, when)", trail_ok, f"{len(trails)} CloudTrail trail(s), multi-region with log-file validation: {trail_ok}"),
        _gate("Security", "log retention defined", bool(retention) and all(retention), f"log groups retain {sorted(set(map(str, retention)))} days"),
        Gate("Security", "PII logging policy, meeting-prep disclaimer, deletion pathway", Verdict.MANUAL, "application behaviour: verify in the product's own tests"),
    ]


def ops_gates(a: Artifacts, config: AwsEnvironment) -> list[Gate]:
    jobs = [j["name"] for j in a.gcp_resources("google_cloud_run_v2_job").values()]
    rollout = (ROOT / "opscli" / "gcp_rollout.py").exists()
    tables = [t for _, _, t in a.aws_resources("AWS::DynamoDB::GlobalTable")]
    pitr = all(r["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] for t in tables for r in t["Properties"]["Replicas"])
    plans = list(a.aws_resources("AWS::Backup::BackupPlan"))
    sql = list(a.gcp_resources("google_sql_database_instance").values())
    sql_backups = [s["settings"].get("backup_configuration", {}) for s in sql]
    sql_ok = bool(sql) and all(b.get("enabled") and b.get("point_in_time_recovery_enabled") for b in sql_backups)
    aws_keys = [k["Properties"].get("EnableKeyRotation") for _, _, k in a.aws_resources("AWS::KMS::Key")]
    gcp_keys = [k.get("rotation_period") for k in a.gcp_resources("google_kms_crypto_key").values()]
    securestrings = any(r["Properties"].get("Type") == "SecureString" for _, _, r in a.aws_resources("AWS::SSM::Parameter"))
    return [
        _gate("Ops", "migrations job exists and runs before the services", bool(jobs) and rollout,
              f"Cloud Run job(s) {jobs}; rollout command opscli/gcp_rollout.py {'present' if rollout else 'missing'}"),
        _gate("Ops", "automated backups enabled", bool(tables) and pitr and bool(plans) and sql_ok,
              f"{len(tables)} tables with PITR={pitr}, {len(plans)} AWS Backup plan(s); Cloud SQL backups {sql_backups}"),
        _gate("Ops", "secrets from a secret manager, rotation planned", not securestrings and all(aws_keys) and bool(gcp_keys) and all(gcp_keys),
              f"no SecureString in templates (created by bin/ops rotate-nonce); {len(aws_keys)} AWS keys rotate; GCP key rotation {sorted(set(map(str, gcp_keys)))}"),
        Gate("Ops", "restore procedure, RPO/RTO, tabletop exercise", Verdict.MANUAL, "documented in the runbook; no template can prove it"),
    ]


def contract_gates(a: Artifacts, config: AwsEnvironment) -> list[Gate]:
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
    versions = [v.get("secret_data", "") for v in a.gcp_resources("google_secret_manager_secret_version").values()]
    gates.append(_gate("Env contract", "KV_REDIS_PASSWORD is non-empty (Redis AUTH on, secret fed from it)",
                       bool(redis) and all(r.get("auth_enabled") for r in redis) and any("auth_string" in v for v in versions),
                       f"Redis auth_enabled={[r.get('auth_enabled') for r in redis]}; secret version from auth_string: {any('auth_string' in v for v in versions)}"))
    return gates


def observability_gates(a: Artifacts, config: AwsEnvironment) -> list[Gate]:
    aws_dash = [d["Properties"]["DashboardName"] for _, _, d in a.aws_resources("AWS::CloudWatch::Dashboard")]
    gcp_dash = list(a.gcp_resources("google_monitoring_dashboard"))
    alarms = [al["Properties"]["AlarmName"] for _, _, al in a.aws_resources("AWS::CloudWatch::Alarm")]
    policies = [p["display_name"] for p in a.gcp_resources("google_monitoring_alert_policy").values()]
    def has(words: tuple[str, ...], names: list[str]) -> list[str]:
        return [n for n in names if any(w in n.lower() for w in words)]
    routed_aws = all(al["Properties"].get("AlarmActions") for _, _, al in a.aws_resources("AWS::CloudWatch::Alarm"))
    routed_gcp = all(p.get("notification_channels") for p in a.gcp_resources("google_monitoring_alert_policy").values())
    subscriptions = list(a.aws_resources("AWS::SNS::Subscription"))
    checks = [
        ("dashboards: API latency/errors, DB/Redis saturation", bool(aws_dash) and bool(gcp_dash), f"AWS {aws_dash}; GCP {len(gcp_dash)} dashboard(s)"),
        ("alert: high error rate", bool(has(("error-rate", "5xx"), alarms + policies)), str(has(("error-rate", "5xx"), alarms + policies))),
        ("alert: elevated latency", bool(has(("latency",), alarms + policies)), str(has(("latency",), alarms + policies))),
        ("alert: migrations failures", bool(has(("migration",), policies)), str(has(("migration",), policies))),
        ("alert: auth/redis session failures", bool(has(("redis", "memorystore"), policies)), str(has(("redis", "memorystore"), policies))),
        ("alert routing configured", routed_aws and routed_gcp and bool(subscriptions),
         f"every AWS alarm has an action: {routed_aws}; {len(subscriptions)} SNS subscription(s); every GCP policy has channels: {routed_gcp}"),
    ]
    return [_gate("Observability", name, ok, evidence) for name, ok, evidence in checks]


SECTIONS: tuple[Callable[[Artifacts, AwsEnvironment], list[Gate]], ...] = (security_gates, ops_gates, contract_gates, observability_gates)


def _recovery_gates(a: Artifacts, config: AwsEnvironment) -> list[Gate]:
    from .recovery_readiness import recovery_gates  # its own module (issue 12); imports this one

    return recovery_gates(a, config)


SECTIONS += (_recovery_gates,)


def evaluate(artifacts: Artifacts, config: AwsEnvironment) -> list[Gate]:
    return [gate for section in SECTIONS for gate in section(artifacts, config)]


def render(gates: list[Gate]) -> str:
    width = max(len(g.name) for g in gates)
    lines = [f"{'':7}{'gate':<{width}}  evidence"]
    for g in gates:
        lines.append(f"{g.verdict.value:<7}{g.name:<{width}}  [{g.section}] {g.evidence}")
    counts = {v: sum(g.verdict is v for g in gates) for v in Verdict}
    lines.append(f"readiness: {counts[Verdict.PASS]} PASS, {counts[Verdict.FAIL]} FAIL, {counts[Verdict.MANUAL]} MANUAL")
    return "\n".join(lines)
