"""``tf.depend_from_here_on``: the dependencies a stack gives every resource
created after the call, written when each resource is created (docs/speed.md:
a pass over the finished tree cost four jsii round trips per resource).

Bare stacks, synthesized in memory (``Testing.synth``): nothing on disk."""
from __future__ import annotations

import json


def _doc(stack) -> dict:
    from constructs_lib.gcp import tf

    return json.loads(tf.Testing.synth(stack))


def test_resources_after_the_call_depend_on_the_list_and_only_in_their_stack(tmp_path):
    from constructs_lib.gcp import tf

    app = tf.App(outdir=str(tmp_path))
    stack = tf.TerraformStack(app, "one")
    other = tf.TerraformStack(app, "other")
    tf.provider.GoogleProvider(stack, "Google", project="p")
    tf.provider.GoogleProvider(other, "Google", project="p")
    api = tf.project_service.ProjectService(stack, "Api", service="run.googleapis.com")
    before = tf.service_account.ServiceAccount(stack, "Before", account_id="before")
    tf.depend_from_here_on(stack, [api])
    inner = tf.Construct(stack, "Inner")  # a resource inside a construct of the stack: same stack
    granted = tf.service_account.ServiceAccount(inner, "After", account_id="after")
    tf.project_iam_member.ProjectIamMember(inner, "Member", project="p", role="roles/viewer",
                                           member="user:a@example.com", depends_on=[granted])
    tf.DataResource(stack, "Data", input={"a": "b"})
    tf.service_account.ServiceAccount(other, "Elsewhere", account_id="elsewhere")

    resources = _doc(stack)["resource"]
    api_address = f"google_project_service.{next(iter(resources['google_project_service']))}"
    accounts = {body["account_id"]: body for body in resources["google_service_account"].values()}
    assert "depends_on" not in accounts["before"]  # created before the call
    assert "depends_on" not in resources["google_project_service"][api_address.split(".", 1)[1]]
    assert accounts["after"]["depends_on"] == [api_address]
    member = next(iter(resources["google_project_iam_member"].values()))
    # its own dependency kept, first; the stack's added once
    assert member["depends_on"] == [f"google_service_account.{_name(resources, 'after')}", api_address]
    assert next(iter(resources["terraform_data"].values()))["depends_on"] == [api_address]
    elsewhere = next(iter(_doc(other)["resource"]["google_service_account"].values()))
    assert "depends_on" not in elsewhere  # another stack: untouched


def test_a_dependency_listed_by_the_caller_is_not_repeated(tmp_path):
    from constructs_lib.gcp import tf

    app = tf.App(outdir=str(tmp_path))
    stack = tf.TerraformStack(app, "one")
    tf.provider.GoogleProvider(stack, "Google", project="p")
    api = tf.project_service.ProjectService(stack, "Api", service="run.googleapis.com")
    tf.depend_from_here_on(stack, [api])
    tf.service_account.ServiceAccount(stack, "Sa", account_id="sa", depends_on=[api])
    resources = _doc(stack)["resource"]
    api_address = f"google_project_service.{next(iter(resources['google_project_service']))}"
    assert next(iter(resources["google_service_account"].values()))["depends_on"] == [api_address]


def _name(resources: dict, account_id: str) -> str:
    return next(n for n, b in resources["google_service_account"].items() if b["account_id"] == account_id)
