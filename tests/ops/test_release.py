"""bin/ops plan / deploy / rollback with an injected runner (no CLI, no AWS).

The runner fakes the three subprocesses: the gates (which synthesize a small
but real-shaped cloud assembly into --output), ``cdk diff`` and ``cdk deploy``.
The end-to-end versions against the local target are in tests/e2e/test_approval.py.
"""

from __future__ import annotations

import io
import os
import json
import subprocess
import time
from pathlib import Path

import pytest

from envconfig.aws import load
from opscli import approval, release
from opscli.errors import CheckFailed, OpsError

DIFF = "Stack Production-Data\nResources\n[~] AWS::CloudWatch::Alarm ... Threshold 10 -> 20\n"


def write_assembly(out: Path, stage: str = "Staging", *, threshold: int = 10, code: str = "def handler(): pass\n") -> None:
    """A two-stack cloud assembly shaped like the CLI writes it (manifest, nested Stage, assets)."""
    nested = out / f"assembly-{stage}"
    nested.mkdir(parents=True, exist_ok=True)
    (out / "asset.abc").mkdir(exist_ok=True)
    (out / "asset.abc" / "handler.py").write_text(code)
    top = out / "manifest.json"
    manifest = json.loads(top.read_text()) if top.exists() else {"version": "55.0.0", "artifacts": {
        "Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}}}}
    manifest["artifacts"][f"assembly-{stage}"] = {
        "type": "cdk:cloud-assembly", "properties": {"directoryName": f"assembly-{stage}", "displayName": stage}}
    top.write_text(json.dumps(manifest))
    (out / "tree.json").write_text(json.dumps({"time": time.time()}))  # not deployed: must not count
    artifacts = {}
    for stack in ("Data", "Runtime"):
        aid = f"{stage}{stack}1234"
        template = {"Resources": {"Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Threshold": threshold}}}}
        if stack == "Runtime":
            template = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
                "Role": "{{resolve:ssm:/mirror-dissonance/staging/infra/data-key-arn}}"}}}}
        (nested / f"{aid}.template.json").write_text(json.dumps(template, indent=1))
        (nested / f"{aid}.assets.json").write_text(json.dumps({"version": "55.0.0", "files": {
            "abc": {"source": {"path": "../asset.abc", "packaging": "zip"}, "destinations": {}}}}))
        (nested / f"{aid}.metadata.json").write_text(json.dumps({f"/{stage}/{stack}": [{"type": "aws:cdk:creationStack", "data": [str(time.time())]}]}))
        artifacts[f"{aid}.assets"] = {"type": "cdk:asset-manifest", "properties": {"file": f"{aid}.assets.json"}}
        artifacts[aid] = {"type": "aws:cloudformation:stack", "environment": "aws://123456789012/us-east-1",
                          "properties": {"templateFile": f"{aid}.template.json", "stackName": f"{stage}-{stack}",
                                         "additionalDependencies": [f"{aid}.assets"]},
                          "additionalMetadataFile": f"{aid}.metadata.json", "displayName": f"{stage}/{stack}"}
    (nested / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}))


class FakeRunner:
    def __init__(self, diff: str = DIFF, fail: str | None = None, threshold: int = 10, diff_stderr: str = ""):
        self.calls: list[str] = []
        self.deployed: list[tuple] = []
        self.commands: list[list[str]] = []
        self.diff, self.fail, self.threshold, self.diff_stderr = diff, fail, threshold, diff_stderr

    def __call__(self, cmd):
        step = "gates" if "gates.run" in cmd else cmd[2]
        self.calls.append(step)
        self.commands.append(cmd)
        if step in ("gates", "synth") and step != self.fail:
            out = Path(cmd[cmd.index("--output") + 1])
            write_assembly(out, "Staging", threshold=self.threshold)
            write_assembly(out, "Production", threshold=self.threshold)
        if step == "deploy":
            app = Path(cmd[cmd.index("--app") + 1])
            stage = "Production" if "Production/*" in cmd else "Staging"
            # What the CLI would read, read while it runs: the private copy is gone afterwards.
            self.deployed.append((app, approval.assembly_digest(app, stage).digest, oct(app.parent.stat().st_mode & 0o777),
                                  sorted(p.name for p in app.rglob("*.zip"))))
        failed = step == self.fail
        stdout = self.diff if step == "diff" else ""
        stderr = "boom" if failed else (self.diff_stderr if step == "diff" else "")
        return subprocess.CompletedProcess(cmd, 1 if failed else 0, stdout, stderr)


class FakeLock:
    def __init__(self, account, command, approval_id):
        self.account, self.command, self.approval_id, self.lost = account, command, approval_id, None

    def __enter__(self):
        self.account.events.append(("lock", self.command, self.approval_id))
        return self

    def __exit__(self, *exc):
        self.account.events.append(("release",))


class FakeAccount:
    """The account side of deploy (lock, post-deploy check, record), in memory."""
    instances: list["FakeAccount"] = []
    problems: list[str] = []

    def __init__(self, config=None):
        self.events: list[tuple] = []
        FakeAccount.instances.append(self)

    def lock(self, command, approval_id):
        return FakeLock(self, command, approval_id)

    def check_deployed(self, stage):
        self.events.append(("check", stage.name))
        return list(FakeAccount.problems)

    def record(self, approval_id, command, commit=None):
        self.events.append(("record", approval_id, command))
        self.commit = commit


@pytest.fixture(autouse=True)
def _approvals(tmp_path, monkeypatch):
    monkeypatch.setenv("OPS_APPROVALS_DIR", str(tmp_path / "approvals"))
    monkeypatch.setattr(release, "AwsAccount", FakeAccount)
    FakeAccount.instances, FakeAccount.problems = [], []


def _plan(env="staging", **kw) -> release.Plan:
    return release.plan(load(env), runner=FakeRunner(**kw), out=io.StringIO())


def test_plan_prints_the_approval_id_last_and_keeps_the_assembly(tmp_path):
    out, runner = io.StringIO(), FakeRunner()
    plan = release.plan(load("staging"), runner=runner, out=out)
    assert runner.calls == ["gates", "diff"]
    assert out.getvalue().rstrip().splitlines()[-1] == f"approval id: {plan.approval_id}"
    assert plan.directory == tmp_path / "approvals" / "staging" / plan.approval_id
    assert approval.assembly_digest(plan.assembly, "Staging").digest == plan.approval_id
    # the diff runs on the kept assembly, not on a fresh synthesis
    diff_cmd = runner.commands[1]
    assert diff_cmd[diff_cmd.index("--app") + 1] == str(plan.assembly)


def test_the_plan_keeps_its_commit_and_the_deploy_records_it(monkeypatch):
    """The drift job rebuilds the deployed assembly from the recorded commit (.github/workflows/drift.yml)."""
    monkeypatch.setenv("GITHUB_SHA", "a" * 40)
    plan = _plan("production")
    assert json.loads((plan.directory / "approval.json").read_text())["commit"] == "a" * 40
    monkeypatch.setenv("GITHUB_SHA", "b" * 40)  # the deploy job's own commit does not matter: the plan's does
    assert release.deploy(load("production"), approved=plan.approval_id, verify=lambda: 0, runner=FakeRunner(),
                          out=io.StringIO()) == 0
    assert FakeAccount.instances[-1].commit == "a" * 40


def test_a_plan_from_uncommitted_sources_records_no_commit(monkeypatch):
    monkeypatch.delenv("GITHUB_SHA", raising=False)
    monkeypatch.setattr(release.subprocess, "run", lambda cmd, **kw: subprocess.CompletedProcess(
        cmd, 0, stdout=" M config/aws/staging.yaml\n" if "status" in cmd else "c" * 40 + "\n", stderr=""))
    assert release.source_commit() is None


def test_same_inputs_give_the_same_id_whatever_the_console_says():
    first = _plan(diff_stderr="(node:111) Warning: NodeVersionSupportWarning\nSynthesis time: 3.1s\n")
    second = _plan(diff_stderr="(node:222) Warning: NodeVersionSupportWarning\nSynthesis time: 9.9s\n")
    assert first.approval_id == second.approval_id


def test_a_template_change_changes_the_id():
    assert _plan(threshold=10).approval_id != _plan(threshold=20).approval_id


def test_the_diff_is_shown_complete_with_the_dynamic_references():
    trust = ('[+] "sts:AssumeRoleWithWebIdentity"\n AssumeRolePolicyDocument\n'
             "Could not assume role arn:aws:iam::1:role/cdk-lookup, proceeding anyway (credentials)\n")
    out = io.StringIO()
    plan = release.plan(load("staging"), runner=FakeRunner(diff=DIFF + trust), out=out)
    for line in (DIFF + trust).splitlines():
        assert line in out.getvalue() and line in plan.diff
    assert "{{resolve:ssm:/mirror-dissonance/staging/infra/data-key-arn}}  used by Staging-Runtime" in plan.diff
    assert (plan.directory / "diff.txt").read_text() == plan.diff


@pytest.mark.parametrize("step", ["gates", "diff"])
def test_a_failed_step_prints_no_id_and_keeps_nothing(step, tmp_path):
    out = io.StringIO()
    with pytest.raises(CheckFailed):
        release.plan(load("staging"), runner=FakeRunner(fail=step), out=out)
    assert "approval id" not in out.getvalue()
    assert [p.name for p in (tmp_path / "approvals" / "staging").iterdir()] == []


def test_staging_without_approval_plans_then_deploys_that_assembly():
    runner, verified = FakeRunner(), []
    code = release.deploy(load("staging"), approved=None, verify=lambda: verified.append(1) or 0, runner=runner, out=io.StringIO())
    assert code == 0 and runner.calls == ["gates", "diff", "deploy"] and verified == [1]
    kept = next((Path(os.environ["OPS_APPROVALS_DIR"]) / "staging").glob("*/approval.json")).parent
    app, digest, _, _ = runner.deployed[0]
    assert digest == kept.name and not app.is_relative_to(kept)


def test_production_refuses_without_an_approval():
    runner = FakeRunner()
    with pytest.raises(OpsError, match="production deploys only an approved assembly"):
        release.deploy(load("production"), approved=None, verify=lambda: 0, runner=runner, out=io.StringIO())
    assert runner.calls == []


def test_production_deploys_exactly_the_approved_assembly_without_resynthesizing():
    plan = _plan("production")
    runner = FakeRunner()
    assert release.deploy(load("production"), approved=plan.approval_id.upper(), verify=lambda: 0, runner=runner, out=io.StringIO()) == 0
    assert runner.calls == ["deploy"]
    cmd = runner.commands[0]
    app, digest, mode, zips = runner.deployed[0]
    # the CLI reads a private 0700 copy whose digest is the approved id, never the kept directory
    assert "Production/*" in cmd and digest == plan.approval_id and mode == "0o700"
    assert not app.is_relative_to(plan.directory) and not app.exists()
    assert zips == ["abc.zip"]  # the package whose CodeSha256 the post-deploy check expects
    assert plan.approval_id in release.history(load("production"))[-1]
    assert FakeAccount.instances[-1].events == [("lock", "deploy", plan.approval_id), ("check", "Production"),
                                                ("record", plan.approval_id, "deploy"), ("release",)]


def test_an_altered_kept_assembly_is_refused_naming_the_stack():
    plan = _plan("production")
    template = next((plan.assembly / "assembly-Production").glob("ProductionData*.template.json"))
    template.write_text(template.read_text().replace("10", "99"))
    runner = FakeRunner()
    with pytest.raises(CheckFailed, match=r"no longer has digest .*Production-Data changed"):
        release.deploy(load("production"), approved=plan.approval_id, verify=lambda: 0, runner=runner, out=io.StringIO())
    assert runner.calls == []


def test_an_altered_asset_is_refused():
    plan = _plan("production")
    (plan.assembly / "asset.abc" / "handler.py").write_text("import os; os.system('curl evil')\n")
    with pytest.raises(CheckFailed, match="no longer has digest"):
        release.deploy(load("production"), approved=plan.approval_id, verify=lambda: 0, runner=FakeRunner(), out=io.StringIO())


def test_a_checkout_change_after_approval_is_refused_naming_the_stack(monkeypatch):
    plan = _plan("production")
    monkeypatch.setattr(release, "sources_digest", lambda: "something changed")
    runner = FakeRunner(threshold=20)  # the checkout now synthesizes another threshold
    with pytest.raises(CheckFailed, match=r"templates of Production-Data changed since approval"):
        release.deploy(load("production"), approved=plan.approval_id, verify=lambda: 0, runner=runner, out=io.StringIO())
    assert runner.calls == ["synth"]


def test_a_checkout_change_that_leaves_the_templates_alone_deploys(monkeypatch):
    plan = _plan("production")
    monkeypatch.setattr(release, "sources_digest", lambda: "a comment changed")
    runner = FakeRunner()
    assert release.deploy(load("production"), approved=plan.approval_id, verify=lambda: 0, runner=runner, out=io.StringIO()) == 0
    assert runner.calls == ["synth", "deploy"]


def test_an_unknown_id_is_refused_before_any_command():
    runner = FakeRunner()
    with pytest.raises(OpsError, match="no kept assembly for production"):
        release.deploy(load("production"), approved="ab" * 32, verify=lambda: 0, runner=runner, out=io.StringIO())
    assert runner.calls == []


def test_rollback_redeploys_an_earlier_assembly_without_the_checkout_check(monkeypatch):
    old = _plan("production", threshold=10)
    new = _plan("production", threshold=20)
    release.deploy(load("production"), approved=new.approval_id, verify=lambda: 0, runner=FakeRunner(threshold=20), out=io.StringIO())
    runner = FakeRunner(threshold=20)  # the checkout is at the newer version
    assert release.rollback(load("production"), to=old.approval_id, verify=lambda: 0, runner=runner, out=io.StringIO()) == 0
    assert runner.calls == ["deploy"]
    assert runner.deployed[0][1] == old.approval_id
    assert FakeAccount.instances[-1].events[-2] == ("record", old.approval_id, "rollback")
    log = release.history(load("production"))
    assert log[-2].endswith(f"deployed {new.approval_id}") and log[-1].endswith(f"rolled back {old.approval_id}")


def test_failed_deploy_skips_verification_and_records_nothing():
    plan, verified = _plan("production"), []
    with pytest.raises(CheckFailed, match="cdk deploy failed"):
        release.deploy(load("production"), approved=plan.approval_id, verify=lambda: verified.append(1) or 0,
                       runner=FakeRunner(fail="deploy"), out=io.StringIO())
    assert verified == [] and release.history(load("production")) == []


@pytest.mark.parametrize("bad", ["nonsense", "ab" * 31, "g" * 64, "", "ab" * 32 + "0"])
def test_cli_refuses_a_malformed_id_with_exit_2_before_anything(bad, capsys, monkeypatch):
    from opscli import aws_ops

    def forbidden(*a, **k):
        raise AssertionError("no config, synth or AWS call for a malformed id")

    monkeypatch.setattr(aws_ops, "load", forbidden)
    monkeypatch.setattr(release.subprocess, "run", forbidden)
    for argv in (["deploy", "--env", "production", "--approved", bad], ["rollback", "--env", "staging", "--to", bad]):
        with pytest.raises(SystemExit) as exit_:
            aws_ops.main(argv)
        assert exit_.value.code == 2
        assert "an approval id is 64 hexadecimal digits" in capsys.readouterr().err


def test_cli_refuses_an_unapproved_production_deploy(capsys):
    from opscli.aws_ops import main

    assert main(["deploy", "--env", "production"]) == 2
    assert "production deploys only an approved assembly" in capsys.readouterr().err


def test_cli_rollback_list_with_nothing_recorded(capsys):
    from opscli.aws_ops import main

    assert main(["rollback", "--env", "staging", "--list"]) == 0
    assert "no deployments recorded" in capsys.readouterr().out


def test_cli_readiness_needs_synth_output(tmp_path, monkeypatch, capsys):
    from opscli import readiness
    from opscli.aws_ops import main

    original = readiness.load_artifacts
    monkeypatch.setattr(readiness, "load_artifacts", lambda config: original(config, cdk_out=tmp_path, cdktf_out=tmp_path))
    assert main(["readiness", "--env", "staging"]) == 2
    assert "run bin/synth first" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["deploy", "--env", "production", "--approved", "nonsense"],
                                  ["rollback", "--env", "staging", "--to=12ab"],
                                  ["deploy", "--approved", "x" * 64, "--env", "staging"]])
def test_bin_ops_refuses_a_malformed_id_before_importing_boto3_or_the_config(argv):
    # What makes the refusal fast is what it does not load: checked with
    # -X importtime rather than a clock (no timed assertions).
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([str(root / ".venv" / "bin" / "python"), "-X", "importtime", "-m", "opscli.entry", *argv],
                          cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "an approval id is 64 hexadecimal digits" in proc.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "opscli.approval" in imported
    assert not {"boto3", "botocore", "envconfig.aws", "opscli.aws_ops", "yaml"} & imported


def test_bin_ops_entry_hands_a_good_id_to_the_commands(monkeypatch, capsys):
    from opscli import entry

    assert entry.main(["deploy", "--env", "production", "--approved", "ab" * 32]) == 2
    assert "no kept assembly for production" in capsys.readouterr().err


def test_two_plans_of_the_same_content_share_one_kept_directory(monkeypatch):
    # A concurrent plan that finished first: its directory is complete (it was
    # renamed into place atomically), so this plan uses it instead of failing.
    first = _plan()
    original_rename = Path.rename

    def rename_after_the_other_plan(self, target):
        assert Path(target).is_dir()  # the other plan's directory exists
        return original_rename(self, target)

    monkeypatch.setattr(Path, "exists", lambda self: False if self == first.directory else os.path.exists(self))
    monkeypatch.setattr(Path, "rename", rename_after_the_other_plan)
    second = _plan()
    assert second.directory == first.directory and (first.directory / "approval.json").is_file()
    assert [p.name for p in first.directory.parent.iterdir() if p.name.startswith(".plan-")] == []


def test_a_failed_diff_keeps_an_assembly_approved_earlier():
    first = _plan()
    with pytest.raises(CheckFailed, match="cdk diff failed"):
        _plan(fail="diff")
    assert (first.directory / "approval.json").is_file()


def _refused():
    raise OpsError("cannot identify the AWS account of these credentials: Could not connect to the endpoint URL")


def test_plan_checks_the_credentials_before_the_gates():
    runner, out = FakeRunner(), io.StringIO()
    with pytest.raises(OpsError, match="cannot identify the AWS account"):
        release.plan(load("staging"), runner=runner, out=out, preflight=_refused)
    assert runner.calls == [] and "approval id" not in out.getvalue()


def test_deploy_and_rollback_check_the_credentials_after_the_local_checks_and_before_any_command():
    plan = _plan("production")
    for call in (lambda r: release.deploy(load("production"), approved=plan.approval_id, verify=lambda: 0, runner=r,
                                          out=io.StringIO(), preflight=_refused),
                 lambda r: release.rollback(load("production"), to=plan.approval_id, verify=lambda: 0, runner=r,
                                            out=io.StringIO(), preflight=_refused)):
        runner = FakeRunner()
        with pytest.raises(OpsError, match="cannot identify"):
            call(runner)
        assert runner.calls == []
    with pytest.raises(OpsError, match="no kept assembly"):  # a local problem is reported first
        release.deploy(load("production"), approved="cd" * 32, verify=lambda: 0, runner=FakeRunner(),
                       out=io.StringIO(), preflight=_refused)


def test_cli_plan_with_an_unreachable_endpoint_fails_fast_without_an_id(monkeypatch, capsys):
    from opscli.aws_ops import main

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setattr(release.subprocess, "run", lambda *a, **k: pytest.fail("no synth before the credentials are known"))
    assert main(["plan", "--env", "staging"]) == 2
    captured = capsys.readouterr()
    assert "cannot identify the AWS account" in captured.err and "approval id:" not in captured.out


def test_commands_run_without_the_operators_terminal_width(monkeypatch):
    """The CDK CLI wraps its tables at $COLUMNS; a kept diff.txt must read the same from any terminal."""
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "24")
    probe = release.run_command(["python3", "-c", "import os; print(os.environ.get('COLUMNS'), os.environ.get('LINES'))"])
    assert probe.returncode == 0 and probe.stdout.split() == ["None", "None"]


def test_files_swapped_after_the_check_never_reach_the_cli(monkeypatch):
    from opscli import faults

    plan = _plan("production")
    template = next((plan.assembly / "assembly-Production").glob("ProductionData*.template.json"))

    def swap(point):  # an attacker on the runner's disk, between the check and cdk deploy
        if point == "copied":
            template.write_text(template.read_text().replace("10", "99"))
            (plan.assembly / "asset.abc" / "handler.py").write_text("import os; os.system('curl evil')\n")

    monkeypatch.setattr(faults, "hook", swap)
    runner = FakeRunner()
    assert release.deploy(load("production"), approved=plan.approval_id, verify=lambda: 0, runner=runner, out=io.StringIO()) == 0
    assert "99" in template.read_text()          # the kept directory was changed...
    assert runner.deployed[0][1] == plan.approval_id  # ...but the CLI read the approved bytes


def test_a_post_deploy_difference_fails_records_nothing_and_releases_the_lock():
    plan, verified = _plan("production"), []
    FakeAccount.problems = ["Production-Runtime/Fn (fn-1) runs code with CodeSha256 EVIL=; the approved package has GOOD="]
    with pytest.raises(CheckFailed, match=r"what runs is not what was approved \(see docs/operations.md.*\n  Production-Runtime/Fn .*EVIL="):
        release.deploy(load("production"), approved=plan.approval_id, verify=lambda: verified.append(1) or 0,
                       runner=FakeRunner(), out=io.StringIO())
    events = FakeAccount.instances[-1].events
    assert events == [("lock", "deploy", plan.approval_id), ("check", "Production"), ("release",)]
    assert verified == [] and release.history(load("production")) == []


def test_a_lock_held_elsewhere_stops_before_cdk_deploy():
    from opscli.deploy_lock import LockHeld

    plan = _plan("production")

    class Held(FakeAccount):
        def lock(self, command, approval_id):
            raise LockHeld("another deployment holds /mirror-dissonance/production/deploy-lock: arn:aws:sts::1:assumed-role/x")

    runner = FakeRunner()
    with pytest.raises(LockHeld, match="another deployment holds .*deploy-lock: arn:aws:sts"):
        release.deploy(load("production"), approved=plan.approval_id, verify=lambda: 0, runner=runner,
                       out=io.StringIO(), account=Held())
    assert runner.calls == []


def test_staging_kept_directory_under_production_says_wrong_environment():
    staging = _plan("staging")
    target = Path(os.environ["OPS_APPROVALS_DIR"]) / "production" / staging.approval_id
    target.parent.mkdir(parents=True)
    import shutil
    shutil.copytree(staging.directory, target)
    with pytest.raises(CheckFailed, match="planned for 'staging', not 'production': wrong environment"):
        release.deploy(load("production"), approved=staging.approval_id, verify=lambda: 0, runner=FakeRunner(), out=io.StringIO())
    # approval.json edited to say production: the digest itself tells the Stage
    record = target / "approval.json"
    record.write_text(record.read_text().replace('"staging"', '"production"'))
    with pytest.raises(CheckFailed, match="is the digest of Staging's assembly, not Production's: wrong environment"):
        release.deploy(load("production"), approved=staging.approval_id, verify=lambda: 0, runner=FakeRunner(), out=io.StringIO())


def test_a_staging_id_passed_to_production_says_wrong_environment():
    staging = _plan("staging")
    with pytest.raises(OpsError, match="is a plan of staging, not production: wrong environment"):
        release.deploy(load("production"), approved=staging.approval_id, verify=lambda: 0, runner=FakeRunner(), out=io.StringIO())


def test_an_extra_nested_assembly_in_the_kept_stage_is_refused():
    plan = _plan("production")
    manifest = plan.assembly / "assembly-Production" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["artifacts"]["assembly-Evil"] = {"type": "cdk:cloud-assembly", "properties": {"directoryName": "x", "displayName": "Evil"}}
    manifest.write_text(json.dumps(data))
    runner = FakeRunner()
    with pytest.raises(CheckFailed, match="kept assembly is refused: .*artifact 'assembly-Evil' has type 'cdk:cloud-assembly'"):
        release.deploy(load("production"), approved=plan.approval_id, verify=lambda: 0, runner=runner, out=io.StringIO())
    assert runner.calls == []


def test_bin_ops_entry_hands_restore_drill_to_a_time_untouched(monkeypatch, capsys):
    from opscli import entry

    seen = []
    monkeypatch.setattr("opscli.aws_ops.main", lambda argv: seen.append(argv) or 0)
    assert entry.main(["restore-drill", "--env", "staging", "--to", "1800000000"]) == 0
    assert entry.main(["restore-drill", "--env", "staging", "--to=2026-12-01T00:00:00Z"]) == 0
    assert seen == [["restore-drill", "--env", "staging", "--to", "1800000000"],
                    ["restore-drill", "--env", "staging", "--to=2026-12-01T00:00:00Z"]]
    assert entry.main(["rollback", "--env", "staging", "--to", "1800000000"]) == 2  # an approval id there
    assert "an approval id is 64 hexadecimal digits" in capsys.readouterr().err


class _Body(io.BytesIO):
    pass


class FakeCloud:
    """CloudFormation, Lambda and S3 answers for check_deployed, from a dict of what is deployed."""

    def __init__(self, templates, code, objects):
        self.templates, self.code, self.objects = templates, code, objects

    def __call__(self, service, region=None):
        return self

    def get_template(self, StackName, TemplateStage):
        return {"TemplateBody": self.templates[StackName]}

    def list_stack_resources(self, StackName, **kw):
        return {"StackResourceSummaries": [{"LogicalResourceId": "Fn", "PhysicalResourceId": "fn-1"}]}

    def get_function_configuration(self, FunctionName):
        return {"CodeSha256": self.code}

    def get_object(self, Bucket, Key):
        return {"Body": _Body(self.objects[(Bucket, Key)])}


def _deployed_as_approved(root):
    from opscli import assembly

    stage = assembly.read(root).stage("Staging")
    templates = {s.name: s.template for s in stage.stacks.values()}
    (code,) = stage.stacks["Staging-Runtime"].lambda_code_sha256().values()
    objects = {(b, k): a.package() for m in stage.asset_manifests.values() for a in m.files.values() for b, k, _ in a.destinations}
    return stage, FakeCloud(templates, code, objects)


def test_check_deployed_passes_only_when_templates_code_and_objects_are_the_approved_ones(tmp_path):
    from tests.ops.assembly_fixture import ASSET_ID, BUCKET, build

    stage, cloud = _deployed_as_approved(build(tmp_path / "a"))
    assert release.check_deployed(stage, cloud) == []
    cloud.templates["Staging-Data"] = {"Resources": {}}
    cloud.code = "EVIL="
    cloud.objects[(BUCKET, f"{ASSET_ID}.zip")] = b"PK poisoned"
    problems = release.check_deployed(stage, cloud)
    assert problems[0] == "Staging-Data: the deployed template is not the approved template"
    assert problems[1].startswith("Staging-Runtime/Fn (fn-1) runs code with CodeSha256 EVIL=; the approved package has ")
    assert problems[2].startswith(f"s3://{BUCKET}/{ASSET_ID}.zip (asset aaaaaaaaaaaa…) holds bytes with sha256 ")
    assert len(problems) == 3
