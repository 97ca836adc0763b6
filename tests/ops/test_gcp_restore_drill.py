"""bin/gcp-restore-drill with a fake ``gcloud`` on PATH: the scratch instance
is deleted whatever happens, the time is reported against the RTO."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from envconfig.location import REPO_CONFIG_DIR
from opscli import gcp_restore_drill
from tests.ops import fake_gcloud

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gcloud(tmp_path, monkeypatch):
    return fake_gcloud.install(tmp_path, monkeypatch)


def drill(*extra) -> tuple[int, str]:
    out = io.StringIO()
    status = gcp_restore_drill.main(["--env", "staging", "--settle-seconds", "0", *extra],
                                    executor=gcp_restore_drill.gcloud_executor, out=out)
    return status, out.getvalue()


def verbs(log: Path) -> list[str]:
    return [" ".join(line.split()[:3]) for line in fake_gcloud.calls(log)]


def test_a_passing_drill_clones_checks_reports_and_deletes(gcloud, tmp_path):
    status, out = drill()
    assert status == 0, out
    assert verbs(gcloud) == ["run jobs execute", "sql instances clone", "sql instances describe", "run jobs execute",
                             "sql instances describe", "sql instances patch", "sql instances delete",
                             "sql instances describe"]
    calls = fake_gcloud.calls(gcloud)
    nonce = calls[0].split("--args=restore-drill,write-canary,")[1]
    assert calls[1].startswith("sql instances clone md-staging-pg md-staging-drill-") and "--point-in-time 20" in calls[1]
    assert f"--args=restore-drill,verify,{nonce}" in calls[3] and "--update-env-vars=DB_PG_HOST=10.10.0.99" in calls[3]
    assert "--no-deletion-protection" in calls[5]
    # staging's Cloud SQL RTO is 60 minutes (config/gcp/staging.yaml recovery.cloud_sql.rto_minutes).
    assert "RTO 60 min (recovery.cloud_sql.rto_minutes): within" in out
    assert fake_gcloud.sql_instances(tmp_path) == []


def test_a_failed_check_still_deletes_the_scratch_instance(gcloud, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_GCLOUD_FAIL", "restore-drill,verify")
    status, out = drill()
    assert status == 1
    assert "check md-staging-drill-" in out and "failed (exit 1)" in out
    assert "sql instances delete" in verbs(gcloud)
    assert fake_gcloud.sql_instances(tmp_path) == [], "the drill left its scratch instance"
    assert "within" not in out and "MISSED" not in out


def test_a_failed_clone_still_looks_for_a_half_made_instance(gcloud, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_GCLOUD_FAIL", "instances clone")
    status, out = drill()
    assert status == 1 and "clone md-staging-pg" in out
    assert verbs(gcloud)[-1] == "sql instances describe" and "sql instances delete" not in verbs(gcloud)


def test_a_failed_canary_write_clones_nothing(gcloud, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_GCLOUD_FAIL", "write-canary")
    status, out = drill()
    assert status == 1 and verbs(gcloud) == ["run jobs execute"]


def test_a_scratch_instance_that_cannot_be_deleted_is_named(gcloud, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_GCLOUD_FAIL", "instances delete")
    status, out = drill()
    assert status == 1
    left = fake_gcloud.sql_instances(tmp_path)
    assert len(left) == 1 and f"scratch instance {left[0]} is LEFT" in out and f"gcloud sql instances delete {left[0]}" in out


def test_a_restore_slower_than_the_rto_fails(gcloud, monkeypatch):
    ticks = iter([0.0, 61 * 60.0])  # clone started at 0, check done 61 minutes later
    monkeypatch.setattr(gcp_restore_drill, "monotonic", lambda: next(ticks))
    status, out = drill()
    assert status == 1 and "restored and checked in 61.0 min, RTO 60 min" in out and "MISSED" in out


def test_a_clone_without_a_private_address_fails_and_is_deleted(gcloud, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_SQL_ADDRESS", "")
    status, out = drill()
    assert status == 1 and "has no private IPv4 address" in out and fake_gcloud.sql_instances(tmp_path) == []


def test_killed_half_way_it_deletes_the_scratch_instance(gcloud, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_GCLOUD_SLEEP", "restore-drill,verify=30")
    proc = subprocess.Popen([str(ROOT / "bin" / "gcp-restore-drill"), "--env", "staging", "--settle-seconds", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy())
    deadline = time.monotonic() + 60
    while not fake_gcloud.sql_instances(tmp_path) or "verify" not in gcloud.read_text():
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()[0] if proc.poll() is not None else "timeout"
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1, output
    assert "interrupted" in output and "deleted" in output
    assert fake_gcloud.sql_instances(tmp_path) == []


def test_production_needs_its_flag(gcloud, capsys):
    assert gcp_restore_drill.main(["--env", "production"]) == 2
    assert "pass --allow-production" in capsys.readouterr().err and fake_gcloud.calls(gcloud) == []


def test_two_drills_never_share_a_scratch_name(gcloud):
    from envconfig.gcp import load_environment
    config = load_environment("staging")
    names = {gcp_restore_drill.Drill(config, executor=None, out=io.StringIO(), settle_seconds=0).scratch for _ in range(20)}
    assert len(names) == 20 and all(n.startswith("md-staging-drill-") and len(n) <= 98 for n in names)


def test_no_gcloud_is_a_failed_step_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("GCLOUD", str(tmp_path / "no-such-gcloud"))
    status, out = drill()
    assert status == 1 and "write canary" in out and "failed (exit 127)" in out
