"""bin/gcp-rollout: by digest only; migrations job first, services only after it succeeded."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from envconfig.gcp import load_environment
from opscli.gcp_rollout import main, rollout

ROOT = Path(__file__).resolve().parents[2]
# One digest per image, as the application's pipeline sends them.
D = {"migrations": "sha256:" + "1" * 64, "api": "sha256:" + "2" * 64, "websocket": "sha256:" + "3" * 64,
     "agent": "sha256:" + "4" * 64}
ARGS = [f"--digest={name}={value}" for name, value in D.items()]


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
    assert rollout(load_environment("staging"), D, executor=ex, out=out) == 0
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
    images = {c[4]: c[c.index("--image") + 1] for c in ex.calls if "--image" in c}
    assert images == {
        "md-staging-migrations": "us-central1-docker.pkg.dev/mirror-dissonance-stg/platform/migrations@sha256:" + "1" * 64,
        "md-staging-api": "us-central1-docker.pkg.dev/mirror-dissonance-stg/platform/api@sha256:" + "2" * 64,
        "md-staging-websocket": "us-central1-docker.pkg.dev/mirror-dissonance-stg/platform/websocket@sha256:" + "3" * 64,
        "md-staging-agent": "us-central1-docker.pkg.dev/mirror-dissonance-stg/platform/agent@sha256:" + "4" * 64,
    }
    assert "gcp-staging now runs migrations@sha256:111111111111" in out.getvalue()


def test_failed_migration_stops_the_rollout_before_services():
    ex, out = Recorder(fail_when=lambda argv: "execute" in argv), io.StringIO()
    assert rollout(load_environment("staging"), D, executor=ex, out=out) == 1
    assert not [c for c in ex.calls if "services" in c], "no service may change after a failed migration"
    assert "step 3 failed (exit 1): run migrations job md-staging-migrations and wait for it; 3 later step(s) not run" in out.getvalue()


def test_failed_backup_stops_the_rollout_before_the_migrations(capsys):
    """A backup before each migration (docs/requirements.md#restore): no restore point, no migration."""
    ex, out = Recorder(fail_when=lambda argv: argv[1:4] == ("sql", "backups", "create")), io.StringIO()
    assert rollout(load_environment("production"), D, executor=ex, out=out) == 1
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
    assert rollout(load_environment("staging"), D, executor=gcloud_executor, out=out) == 1
    assert log.read_text().splitlines() == [
        "sql backups create --instance md-staging-pg --project mirror-dissonance-stg --description before migrations sha256:111111111111 --quiet"
    ]
    assert "(exit 9)" in out.getvalue()


def test_failed_job_update_stops_before_executing_an_old_image():
    ex = Recorder(fail_when=lambda argv: "update" in argv and "jobs" in argv)
    assert rollout(load_environment("production"), D, executor=ex, out=io.StringIO()) == 1
    assert len(ex.calls) == 2 and ex.calls[1][1:4] == ("run", "jobs", "update")


def test_failed_service_update_stops_later_services():
    ex = Recorder(fail_when=lambda argv: "md-prod-websocket" in argv, status=7)
    out = io.StringIO()
    assert rollout(load_environment("production"), D, executor=ex, out=out) == 1
    assert [c[4] for c in ex.calls][-1] == "md-prod-websocket"
    assert "md-prod-agent" not in " ".join(" ".join(c) for c in ex.calls)
    assert "(exit 7)" in out.getvalue()


def test_dry_run_executes_nothing(capsys):
    ex = Recorder()
    assert main(["--env", "staging", *ARGS, "--dry-run"], executor=ex) == 0
    assert ex.calls == []
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("gcloud sql backups create --instance md-staging-pg") and len(lines) == 6
    assert lines[1].startswith("gcloud run jobs update md-staging-migrations")


@pytest.mark.parametrize("bad,message", [
    ("api=latest", "--digest api: must be sha256:<64 lowercase hex> (a tag is refused)"),
    ("api=sha256:" + "A" * 64, "--digest api: must be sha256:<64 lowercase hex>"),
    ("api=sha256:" + "2" * 63, "--digest api: must be sha256:<64 lowercase hex>"),
    ("api:v1", "--digest: must be IMAGE=sha256:<64 hex>"),
    ("frontend=sha256:" + "5" * 64, "--digest frontend: not an image of this platform"),
    ("api=sha256:" + "2" * 64 + "; rm -rf /", "--digest api: must be sha256:<64 lowercase hex>"),
])
def test_anything_but_a_digest_per_image_exits_2_without_running_anything(capsys, bad, message):
    ex = Recorder()
    args = [a for a in ARGS if not a.startswith(f"--digest={bad.split('=')[0].split(':')[0]}=")] + [f"--digest={bad}"]
    assert main(["--env", "staging", *args], executor=ex) == 2
    assert ex.calls == []
    assert message in capsys.readouterr().err


def test_a_release_pins_every_image(capsys):
    ex = Recorder()
    assert main(["--env", "staging", *ARGS[:-1]], executor=ex) == 2
    assert ex.calls == [] and "--digest agent=sha256:<64 hex> is required" in capsys.readouterr().err


def test_a_digest_given_twice_is_refused(capsys):
    assert main(["--env", "staging", *ARGS, ARGS[1]], executor=Recorder()) == 2
    assert "--digest api: given twice" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["--env", "qa", *ARGS]])
def test_usage_errors_exit_2(argv):
    ex = Recorder()
    with pytest.raises(SystemExit) as info:
        main(argv, executor=ex)
    assert info.value.code == 2 and ex.calls == []


def test_bin_script_help():
    proc = subprocess.run([str(ROOT / "bin" / "gcp-rollout"), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "migrations job" in proc.stdout and "--digest" in proc.stdout and "Exit status" in proc.stdout
