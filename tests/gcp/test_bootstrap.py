"""bin/gcp-bootstrap: what the first apply needs and the stack cannot create for itself."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from envconfig.gcp import load_environment
from opscli.gcp_bootstrap import plan, bootstrap, main

ROOT = Path(__file__).resolve().parents[2]


class Recorder:
    def __init__(self, fail_when=lambda argv: False, status: int = 1) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.fail_when, self.status = fail_when, status

    def __call__(self, argv) -> int:
        self.calls.append(tuple(argv))
        return self.status if self.fail_when(argv) else 0


def test_fresh_project_gets_apis_state_bucket_and_infra_identity():
    ex, probe, out = Recorder(), Recorder(fail_when=lambda argv: True), io.StringIO()  # nothing exists yet
    assert bootstrap(load_environment("staging"), executor=ex, probe=probe, out=out, number_of=lambda project: "123456789012") == 0
    verbs = [" ".join(c[1:4]) for c in ex.calls]
    assert verbs[:6] == [
        "services enable serviceusage.googleapis.com",
        "storage buckets create",
        "storage buckets update",
        "iam service-accounts create",
        "projects add-iam-policy-binding mirror-dissonance-stg",
        "billing accounts add-iam-policy-binding",
    ]
    create = ex.calls[1]
    assert "gs://mirror-dissonance-stg-tfstate" in create
    assert {"--uniform-bucket-level-access", "--public-access-prevention"} <= set(create)
    assert "--versioning" in ex.calls[2]
    assert ex.calls[3][4] == "md-staging-infra"
    assert "serviceAccount:md-staging-infra@mirror-dissonance-stg.iam.gserviceaccount.com" in ex.calls[4]
    assert "roles/billing.costsManager" in ex.calls[5]


def test_rerun_skips_what_exists():
    ex, probe, out = Recorder(), Recorder(), io.StringIO()  # every describe succeeds
    assert bootstrap(load_environment("production"), executor=ex, probe=probe, out=out, number_of=lambda project: "123456789012") == 0
    assert not [c for c in ex.calls if "create" in c[:4]]
    assert out.getvalue().count("exists, skipped") == 4  # bucket, infra account, plan account, plan custom role


def test_a_failed_step_stops_and_says_what_to_do():
    ex = Recorder(fail_when=lambda argv: argv[1:3] == ("iam", "service-accounts"), status=5)
    out = io.StringIO()
    assert bootstrap(load_environment("staging"), executor=ex, probe=Recorder(fail_when=lambda a: True), out=out) == 1
    assert not [c for c in ex.calls if "add-iam-policy-binding" in c]
    assert "step 4 failed (exit 5): create infrastructure service account" in out.getvalue()
    later = len(plan(load_environment("staging"))) - 4
    assert f"{later} later step(s) not run; fix and run again" in out.getvalue()


def test_dry_run_runs_nothing(capsys):
    ex = Recorder()
    assert main(["--env", "staging", "--dry-run"], executor=ex, probe=ex) == 0
    assert ex.calls == []
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(plan(load_environment("staging"))) and lines[1].startswith("gcloud storage buckets describe gs://mirror-dissonance-stg-tfstate")


def test_usage_error_exits_2_before_any_call():
    ex = Recorder()
    with pytest.raises(SystemExit) as info:
        main(["--env", "qa"], executor=ex, probe=ex)
    assert info.value.code == 2 and ex.calls == []


def test_no_gcloud_on_path_is_a_clear_failure(tmp_path, monkeypatch, capsys):
    from opscli.gcp_bootstrap import gcloud_executor, quiet_executor

    monkeypatch.setenv("PATH", str(tmp_path))
    out = io.StringIO()
    assert bootstrap(load_environment("staging"), executor=gcloud_executor, probe=quiet_executor, out=out) == 1
    assert "step 1 failed (exit 127)" in out.getvalue()
    assert "gcloud not found on PATH" in capsys.readouterr().err


def test_bin_script_help():
    proc = subprocess.run([str(ROOT / "bin" / "gcp-bootstrap"), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "state bucket" in proc.stdout and "Exit status" in proc.stdout
