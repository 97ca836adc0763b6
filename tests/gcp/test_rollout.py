"""bin/gcp-rollout: migrations job first, services only after it succeeded."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from envconfig.gcp import load_environment
from opscli.gcp_rollout import main, rollout

ROOT = Path(__file__).resolve().parents[2]


class Recorder:
    """A fake executor: records every command, fails the ones asked to."""

    def __init__(self, fail_when=lambda argv: False, status: int = 1) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.fail_when = fail_when
        self.status = status

    def __call__(self, argv) -> int:
        self.calls.append(tuple(argv))
        return self.status if self.fail_when(argv) else 0

    def verbs(self) -> list[str]:
        return [" ".join(c[1:4]) + " " + c[4] for c in self.calls]


def test_migrations_run_and_finish_before_any_service_update():
    ex, out = Recorder(), io.StringIO()
    assert rollout(load_environment("staging"), "abc123", executor=ex, out=out) == 0
    assert ex.verbs() == [
        "sql backups create --instance",
        "run jobs update md-staging-migrations",
        "run jobs execute md-staging-migrations",
        "run services update md-staging-api",
        "run services update md-staging-websocket",
        "run services update md-staging-agent",
    ]
    assert ex.calls[0][5] == "md-staging-pg" and "--async" not in ex.calls[0], "the backup must finish first"
    assert "--wait" in ex.calls[2], "the job must be awaited, or the services would race it"
    assert all(c[c.index("--image") + 1].endswith(":abc123") for c in ex.calls if "--image" in c)
    assert "gcp-staging now runs abc123" in out.getvalue()


def test_failed_migration_stops_the_rollout_before_services():
    ex, out = Recorder(fail_when=lambda argv: "execute" in argv), io.StringIO()
    assert rollout(load_environment("staging"), "abc123", executor=ex, out=out) == 1
    assert not [c for c in ex.calls if "services" in c], "no service may change after a failed migration"
    assert "step 3 failed (exit 1): run migrations job md-staging-migrations and wait for it; 3 later step(s) not run" in out.getvalue()


def test_failed_backup_stops_the_rollout_before_the_migrations(capsys):
    """Seed 002 risk 3: backup before each migration; no restore point, no migration."""
    ex, out = Recorder(fail_when=lambda argv: argv[1:4] == ("sql", "backups", "create")), io.StringIO()
    assert rollout(load_environment("production"), "v2", executor=ex, out=out) == 1
    assert len(ex.calls) == 1 and ex.calls[0][1:4] == ("sql", "backups", "create")
    assert "step 1 failed (exit 1): back up Cloud SQL instance md-prod-pg before migrations; 5 later step(s) not run" in out.getvalue()


def test_fake_gcloud_on_path_failing_backup_stops_everything(tmp_path, monkeypatch):
    """The real executor against a fake gcloud that records its calls and fails the backup."""
    from opscli.gcp_rollout import gcloud_executor

    log = tmp_path / "calls.log"
    fake = tmp_path / "gcloud"
    fake.write_text(f"#!/bin/sh\necho \"$*\" >> {log}\ncase \"$1 $2 $3\" in 'sql backups create') exit 9;; esac\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    out = io.StringIO()
    assert rollout(load_environment("staging"), "abc123", executor=gcloud_executor, out=out) == 1
    assert log.read_text().splitlines() == [
        "sql backups create --instance md-staging-pg --project mirror-dissonance-stg --description before migrations of abc123 --quiet"
    ]
    assert "(exit 9)" in out.getvalue()


def test_failed_job_update_stops_before_executing_an_old_image():
    ex = Recorder(fail_when=lambda argv: "update" in argv and "jobs" in argv)
    assert rollout(load_environment("production"), "v2", executor=ex, out=io.StringIO()) == 1
    assert len(ex.calls) == 2 and ex.calls[1][1:4] == ("run", "jobs", "update")


def test_failed_service_update_stops_later_services():
    ex = Recorder(fail_when=lambda argv: "md-prod-websocket" in argv, status=7)
    out = io.StringIO()
    assert rollout(load_environment("production"), "v2", executor=ex, out=out) == 1
    assert [c[4] for c in ex.calls][-1] == "md-prod-websocket"
    assert "md-prod-agent" not in " ".join(" ".join(c) for c in ex.calls)
    assert "(exit 7)" in out.getvalue()


def test_dry_run_executes_nothing(capsys):
    ex = Recorder()
    assert main(["--env", "staging", "--tag", "abc", "--dry-run"], executor=ex) == 0
    assert ex.calls == []
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("gcloud sql backups create --instance md-staging-pg") and len(lines) == 6
    assert lines[1].startswith("gcloud run jobs update md-staging-migrations")


def test_tag_defaults_to_github_sha(monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_SHA", "0123abcd")
    assert main(["--env", "staging", "--dry-run"], executor=Recorder()) == 0
    assert "platform/migrations:0123abcd" in capsys.readouterr().out


def test_tag_is_required_outside_github(monkeypatch):
    monkeypatch.delenv("GITHUB_SHA", raising=False)
    with pytest.raises(SystemExit) as info:
        main(["--env", "staging"], executor=Recorder())
    assert info.value.code == 2


def test_bad_tag_exits_2_without_running_anything(capsys):
    ex = Recorder()
    assert main(["--env", "staging", "--tag", "bad tag!"], executor=ex) == 2
    assert ex.calls == []
    assert "--tag: must be a Docker tag" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["--env", "qa", "--tag", "x"]])
def test_usage_errors_exit_2(argv, monkeypatch):
    monkeypatch.delenv("GITHUB_SHA", raising=False)
    ex = Recorder()
    with pytest.raises(SystemExit) as info:
        main(argv, executor=ex)
    assert info.value.code == 2 and ex.calls == []


def test_bin_script_help():
    proc = subprocess.run([str(ROOT / "bin" / "gcp-rollout"), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "migrations job" in proc.stdout and "--tag" in proc.stdout and "Exit status" in proc.stdout
