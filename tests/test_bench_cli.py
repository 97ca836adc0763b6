"""bin/bench: its arguments are checked before anything runs, and --json is well formed.

No timing is asserted (times are what bin/bench reports, never a test verdict).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = str(ROOT / "bin" / "bench")


def _bench(*args: str, timeout: int = 60) -> subprocess.CompletedProcess:
    return subprocess.run([BENCH, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_help():
    proc = _bench("--help")
    assert proc.returncode == 0
    assert "--json" in proc.stdout and "reference" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (("--runs", "0"), "--runs: must be at least 1, got 0"),
    (("--heavy-runs", "-1"), "--heavy-runs: must be at least 1, got -1"),
    (("--warmup", "-1"), "--warmup: must be 0 or more, got -1"),
    (("--rows", "aws,nope"), "--rows: unknown row(s) nope"),
    (("--rows", ","), "--rows: unknown row(s) (none given)"),
    (("--root", "/"), "--root: /: not a checkout of this repository"),
    (("--runs", "many"), "argument --runs: invalid int value: 'many'"),
])
def test_bad_arguments_exit_2_with_one_line(args, message):
    proc = _bench(*args)
    assert proc.returncode == 2
    assert message in proc.stderr.strip().splitlines()[-1]
    assert proc.stdout == ""


def test_json_row_against_its_reference():
    proc = _bench("--rows", "facade", "--runs", "1", "--warmup", "0", "--json", timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert {"host", "cpu", "cores", "commit", "started_utc"} <= set(report["machine"])
    [row] = report["rows"]
    assert row["key"] == "facade" and row["runs"] == 1 and len(row["seconds"]) == 1
    assert row["reference"]["title"] == "import cdktf + empty App().synth()"
    assert row["ratio_of_medians"] > 0 and row["peak_process_rss_mb"] > 0


def test_a_failing_command_exits_1_with_its_output(tmp_path):
    # A checkout whose app fails at once: the bench says which command, with its output.
    for name in ("app.py", "gcp_app.py"):
        (tmp_path / name).write_text("raise SystemExit('boom from ' + __file__)\n")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    proc = _bench("--root", str(tmp_path), "--rows", "gcp", "--runs", "1", "--warmup", "0", timeout=300)
    assert proc.returncode == 1
    assert "bin/bench: gcp subject: exit status 1" in proc.stderr and "boom from" in proc.stderr


def test_every_gates_run_starts_with_an_empty_gate_cache(monkeypatch, capsys):
    """The gates row is one cold bin/synth each time: no run reuses passes recorded by another."""
    from bench import run as bench

    seen = []

    def fake_measure(cmd, cwd, env, label):
        directory = Path(env["GATES_CACHE_DIR"])
        seen.append((label, directory, directory.is_dir() and not any(directory.iterdir())))
        (directory / "cfn-lint").mkdir()  # what a real run leaves behind
        return bench.Sample(1.0, 1.0, 1.0)

    monkeypatch.setattr(bench, "_measure", fake_measure)
    assert bench.main(["--rows", "gates", "--heavy-runs", "3", "--json"]) == 0
    assert [label for label, _, _ in seen] == ["gates subject"] * 3
    assert all(empty for _, _, empty in seen) and len({d for _, d, _ in seen}) == 3
    assert json.loads(capsys.readouterr().out)["rows"][0]["runs"] == 3
