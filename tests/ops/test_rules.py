"""Each named rule of opscli/rules on its own, without AWS: pass, fail and
(where it can be) not applicable. Expected values are written here as the
policy states them, never read back from the code under test."""
from __future__ import annotations

import json

from opscli.live.api import Api, Integration, Route, Stage
from opscli.live.approval_record import Record
from opscli.live.functions import Function, Permission, permissions
from opscli.live.iam import Role
from opscli.live.sns import Subscription
from opscli.live.ssm import Parameter
from opscli.rules import Outcome, alarms, approval, functions, iam, kms, smoke, sns, ssm, trail
from opscli.rules import api as api_rules
from opscli.rules.api import ExpectedApi
from opscli.template_resolver import policy

TARGET = "integrations/abc"
WANT_API = ExpectedApi(
    routes={"GET /health": {"AuthorizationType": "AWS_IAM", "Target": TARGET},
            "POST /events": {"AuthorizationType": "AWS_IAM", "Target": TARGET}},
    integrations={"abc": "arn:aws:lambda:us-east-1:123456789012:function:oracle"},
    stages={"$default": {"burst": 20, "rate": 10, "log_destination": "arn:log", "log_format": "{}"}})


def api(*routes, stage_burst=20):
    return Api("api1", tuple(routes), (Integration("abc", "AWS_PROXY", "arn:aws:lambda:us-east-1:123456789012:function:oracle"),),
               (Stage("$default", stage_burst, 10.0, "arn:log", "{}"),))


GOOD_ROUTES = (Route("GET /health", "AWS_IAM", TARGET), Route("POST /events", "AWS_IAM", TARGET))


def outcomes(findings):
    return [f.outcome for f in findings]


# ---- api ---------------------------------------------------------------------

def test_routes_pass_when_exactly_the_approved_ones():
    assert set(outcomes(api_rules.routes("api1", WANT_API, api(*GOOD_ROUTES)))) == {Outcome.PASS}


def test_a_route_switched_to_none_fails():
    [health, _] = api_rules.routes("api1", WANT_API, api(Route("GET /health", "NONE", TARGET), GOOD_ROUTES[1]))
    assert health.outcome is Outcome.FAIL and health.rule == "api.route-authorization"
    assert '"AuthorizationType": "NONE"' in health.evidence() and '"AuthorizationType": "AWS_IAM"' in health.evidence()


def test_an_extra_proxy_route_fails():
    found = api_rules.routes("api1", WANT_API, api(*GOOD_ROUTES, Route("ANY /{proxy+}", "NONE", TARGET)))
    [extra] = [f for f in found if f.failed]
    assert extra.subject == "api1 route ANY /{proxy+}" and "not approved" in extra.evidence()


def test_a_missing_route_fails():
    [missing] = [f for f in api_rules.routes("api1", WANT_API, api(GOOD_ROUTES[0])) if f.failed]
    assert missing.subject == "api1 route POST /events" and missing.actual == "no such route"


def test_stage_throttling_is_compared_and_no_stage_is_not_applicable():
    assert outcomes(api_rules.stages("api1", WANT_API, api(*GOOD_ROUTES))) == [Outcome.PASS]
    assert outcomes(api_rules.stages("api1", WANT_API, api(*GOOD_ROUTES, stage_burst=5000))) == [Outcome.FAIL]
    empty = ExpectedApi({}, {}, {})
    assert outcomes(api_rules.stages("api1", empty, Api("api1", (), (), ()))) == [Outcome.NA]
    assert outcomes(api_rules.integrations("api1", empty, Api("api1", (), (), ()))) == [Outcome.NA]


def test_an_integration_to_another_function_fails():
    other = Api("api1", GOOD_ROUTES, (Integration("abc", "AWS_PROXY", "arn:aws:lambda:us-east-1:123456789012:function:evil"),), ())
    assert outcomes(api_rules.integrations("api1", WANT_API, other)) == [Outcome.FAIL]


# ---- functions ---------------------------------------------------------------

APIGW = functions.ExpectedPermission("apigateway.amazonaws.com", "arn:aws:execute-api:us-east-1:123456789012:api1/*/*/events",
                                     "123456789012")


def function(sha="AAA", perms=()):
    return Function("oracle", sha, "python3.14", "index.handler", "arn:aws:iam::123456789012:role/r", tuple(perms))


def live_permission(principal, arn=APIGW.source_arn, account="123456789012"):
    return Permission("s", principal, "lambda:InvokeFunction", arn, account)


def test_code_hash_pass_fail_and_unreadable_package():
    assert functions.code_hash("oracle", "AAA", function("AAA"), "pkg").outcome is Outcome.PASS
    swapped = functions.code_hash("oracle", "AAA", function("BBB"), "pkg")
    assert swapped.outcome is Outcome.FAIL and "CodeSha256 AAA" in swapped.evidence() and "CodeSha256 BBB" in swapped.evidence()
    # Not a pass: nothing was compared.
    assert functions.code_hash("oracle", None, function("BBB"), "pkg").outcome is Outcome.WARN


def test_invoke_permissions():
    ok = function(perms=[live_permission({"Service": "apigateway.amazonaws.com"})])
    assert outcomes(functions.invoke_permissions("oracle", [APIGW], ok)) == [Outcome.PASS]
    anyone = function(perms=[live_permission({"Service": "apigateway.amazonaws.com"}), live_permission("*", None, None)])
    [extra] = functions.invoke_permissions("oracle", [APIGW], anyone)
    assert extra.outcome is Outcome.FAIL and extra.subject == "oracle permission for *"
    other_account = function(perms=[live_permission({"Service": "apigateway.amazonaws.com"}, account="999999999999")])
    assert Outcome.FAIL in outcomes(functions.invoke_permissions("oracle", [APIGW], other_account))
    assert outcomes(functions.invoke_permissions("oracle", [], function())) == [Outcome.NA]


def test_permissions_are_read_from_the_resource_policy_document():
    doc = {"Statement": [{"Sid": "a", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "lambda:InvokeFunction",
                          "Condition": {"ArnLike": {"AWS:SourceArn": "arn:x"}, "StringEquals": {"AWS:SourceAccount": "1"}}}]}
    [p] = permissions(json.dumps(doc))
    assert (p.source_arn, p.source_account) == ("arn:x", "1")


# ---- iam ---------------------------------------------------------------------

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:r"}]}


def role(attached=(), inline=None):
    return Role("deploy", {}, inline if inline is not None else {"Deploy": DOC}, tuple(attached))


def test_attached_policies():
    assert iam.attached_policies("deploy", set(), role()).outcome is Outcome.PASS
    admin = iam.attached_policies("deploy", set(), role([ADMIN]))
    assert admin.outcome is Outcome.FAIL and ADMIN in admin.evidence()


def test_inline_policies():
    assert outcomes(iam.inline_policies("deploy", {"Deploy": DOC}, role(), policy)) == [Outcome.PASS]
    star = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    [extra, _] = iam.inline_policies("deploy", {"Deploy": DOC}, role(inline={"Deploy": DOC, "x": star}), policy)
    assert extra.outcome is Outcome.FAIL and extra.subject == "deploy inline policy x"
    widened = {"Version": "2012-10-17", "Statement": [{**DOC["Statement"][0], "Resource": "*"}]}
    assert outcomes(iam.inline_policies("deploy", {"Deploy": DOC}, role(inline={"Deploy": widened}), policy)) == [Outcome.FAIL]
    assert iam.inline_policies("deploy", {}, role(inline={}), policy) == []


# ---- sns ---------------------------------------------------------------------

def test_subscriptions():
    mail = ("email", "ops@example.com")
    confirmed = (Subscription("email", "ops@example.com", "arn:sub"),)
    assert outcomes(sns.subscriptions("alerts", {mail}, confirmed)) == [Outcome.PASS]
    extra = confirmed + (Subscription("https", "https://attacker.example", "arn:sub2"),)
    assert outcomes(sns.subscriptions("alerts", {mail}, extra)) == [Outcome.FAIL, Outcome.PASS]
    pending = (Subscription("email", "ops@example.com", "PendingConfirmation"),)
    assert outcomes(sns.subscriptions("alerts", {mail}, pending)) == [Outcome.WARN]
    assert outcomes(sns.subscriptions("alerts", {mail}, ())) == [Outcome.FAIL]


# ---- ssm ---------------------------------------------------------------------

KEYS = {"alias/mirror-dissonance-staging-secrets"}


def test_nonce_must_stay_a_secure_string():
    good = Parameter("/n", "SecureString", "alias/mirror-dissonance-staging-secrets")
    assert ssm.secure_parameter("/n", good, KEYS, required=True, how="x").outcome is Outcome.PASS
    plain = ssm.secure_parameter("/n", Parameter("/n", "String", None), KEYS, required=True, how="x")
    assert plain.outcome is Outcome.FAIL and "String with key None" in plain.evidence()
    # The type alone decides, whatever key is named beside it.
    plain_with_key = Parameter("/n", "String", "alias/mirror-dissonance-staging-secrets")
    assert ssm.secure_parameter("/n", plain_with_key, KEYS, required=True, how="x").outcome is Outcome.FAIL
    other_key = Parameter("/n", "SecureString", "alias/aws/ssm")
    assert ssm.secure_parameter("/n", other_key, KEYS, required=True, how="x").outcome is Outcome.FAIL
    assert ssm.secure_parameter("/n", None, KEYS, required=True, how="x").outcome is Outcome.FAIL
    assert ssm.secure_parameter("/t", None, KEYS, required=False, how="x").outcome is Outcome.WARN


# ---- kms ---------------------------------------------------------------------

def test_key_rotation_is_required():
    assert kms.rotation("k", True).outcome is Outcome.PASS
    assert kms.rotation("k", False).outcome is Outcome.FAIL
    assert kms.rotation("k", None).outcome is Outcome.FAIL
    assert kms.state("k", "Enabled").outcome is Outcome.PASS
    assert kms.state("k", "PendingDeletion").outcome is Outcome.FAIL


# ---- trail -------------------------------------------------------------------

TRAIL = {"IsLogging": True, "IsMultiRegionTrail": True, "EnableLogFileValidation": True, "KMSKeyId": "arn:key"}


def test_trail_passes_only_with_every_property():
    assert set(outcomes(trail.audit_trail("t", TRAIL))) == {Outcome.PASS} and trail.passes(trail.audit_trail("t", TRAIL))
    for prop, rule in (("IsLogging", "trail.logging"), ("IsMultiRegionTrail", "trail.multi-region"),
                       ("EnableLogFileValidation", "trail.log-file-validation"), ("KMSKeyId", "trail.kms-key")):
        found = trail.audit_trail("t", {**TRAIL, prop: False if prop != "KMSKeyId" else None})
        assert [f.rule for f in found if f.failed] == [rule], prop
        assert not trail.passes(found)
    assert outcomes(trail.audit_trail("t", None)) == [Outcome.NA] and not trail.passes(trail.audit_trail("t", None))


def test_stopped_trail_evidence():
    [logging] = [f for f in trail.audit_trail("audit", {**TRAIL, "IsLogging": False}) if f.failed]
    assert logging.subject == "audit logging" and logging.evidence() == "expected true, actual false"


# ---- alarms ------------------------------------------------------------------

TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"


def test_alarm_present_enabled_and_routed():
    live = {"ActionsEnabled": True, "AlarmActions": [TOPIC]}
    assert alarms.alarm("a", live, {TOPIC}, {"AlarmActions": [TOPIC]}).outcome is Outcome.PASS
    deleted = alarms.alarm("a", None, {TOPIC}, where="Staging-Observability/A")
    assert deleted.outcome is Outcome.FAIL  # a deleted alarm pages nobody: never a warning
    assert deleted.evidence() == "expected alarm a (Staging-Observability/A), actual does not exist"
    disabled = alarms.alarm("a", {**live, "ActionsEnabled": False}, {TOPIC})
    assert disabled.outcome is Outcome.FAIL and "ActionsEnabled: expected true, actual False" in disabled.evidence()
    unrouted = alarms.alarm("a", {"ActionsEnabled": True, "AlarmActions": []}, {TOPIC}, {"AlarmActions": [TOPIC]})
    assert unrouted.outcome is Outcome.FAIL and "AlarmActions" in unrouted.evidence()


# ---- smoke -------------------------------------------------------------------

def test_invalid_nonce_is_refused_only_by_a_4xx():
    assert smoke.invalid_nonce_refused(403, "").outcome is Outcome.PASS
    assert smoke.invalid_nonce_refused(400, "").outcome is Outcome.PASS
    for status in (500, 502, 503, 200, 201, 302):
        assert smoke.invalid_nonce_refused(status, "").outcome is Outcome.FAIL, status


# ---- approval ----------------------------------------------------------------

ID = "a" * 64


def test_no_record_warns_in_staging_and_fails_in_production():
    none = Record("/p/deployed-approval", None)
    staging = approval.recorded(none, production=False, kept=False, kept_dir="d")
    production = approval.recorded(none, production=True, kept=False, kept_dir="d")
    assert staging.outcome is Outcome.WARN and production.outcome is Outcome.FAIL
    assert "deployed outside bin/ops" in production.evidence()
    here = Record("/p/deployed-approval", ID, "2026-12-04T00:00:00Z", "ci")
    assert approval.recorded(here, production=True, kept=True, kept_dir="d").outcome is Outcome.PASS
    assert approval.recorded(here, production=True, kept=False, kept_dir="d").outcome is Outcome.FAIL


def test_a_template_changed_outside_bin_ops_fails():
    approved = {"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "deploy"}}}}
    assert approval.template("Staging-Oidc", ID, approved, json.loads(json.dumps(approved))).outcome is Outcome.PASS
    changed = {"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "deploy", "ManagedPolicyArns": [ADMIN]}}}}
    found = approval.template("Staging-Oidc", ID, approved, changed)
    assert found.outcome is Outcome.FAIL and "changed outside bin/ops: ~Role" in found.evidence()
    added = {"Resources": {**approved["Resources"], "Extra": {"Type": "AWS::IAM::User"}}}
    assert "+Extra" in approval.template("Staging-Oidc", ID, approved, added).evidence()


def test_approval_kept_intact_only_when_the_kept_digest_is_the_recorded_id():
    """A kept directory altered on the runner is tampering, not the expectation (docs/requirements.md#verify-and-drift)."""
    recorded = "a" * 64
    assert approval.kept_intact("d", recorded, "a" * 64).outcome is Outcome.PASS
    altered = approval.kept_intact("d", recorded, "b" * 64)
    assert altered.outcome is Outcome.FAIL and altered.actual == "b" * 64
    refused = approval.kept_intact("d", recorded, None, "symlink in assembly/x.json")
    assert refused.outcome is Outcome.FAIL and "symlink" in refused.actual
