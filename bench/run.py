"""bin/bench: how long synthesis takes, each time against its floor measured in the same run.

Every row is a pair: the thing measured and its reference (the floor it cannot
go below: the same libraries imported and an empty App synthesized). The two
run alternately (reference first on even runs, subject first on odd runs),
--runs times each after --warmup unmeasured runs, each in a fresh process.
Reported: median and min-max wall time of both, the ratio of the medians and
the ratio of the minimums (on a shared machine the minimum is the least
disturbed run), and peak memory: the whole process tree's resident memory
(sampled every 0.1 s) and the largest single process (exact, from wait4).

rows (default: aws gcp provider facade):
  aws       python app.py (both Stages, cdk-nag)        vs  same imports + empty aws_cdk App().synth()
  gcp       python gcp_app.py (both stacks)             vs  import cdktf + empty cdktf App().synth()
  provider  import the Google provider package whole    vs  the same cdktf floor
  facade    constructs_lib.gcp.tf + first provider class vs  the same cdktf floor
  gates     python -m gates.run (bin/synth without its install step: both clouds, every gate)
  suite     bin/test (the whole suite on its parallel workers, or the pytest arguments after --)  vs  gates
gates and suite are opt-in (--rows, or --all) and use --heavy-runs (default 1): they take minutes,
and gates writes cdk.out/ and cdktf.out/ in the checkout (do not run two at once on one checkout).
Every measured run gets its own empty GATES_CACHE_DIR, so gates is a cold bin/synth: every gate
checks every file, as on a first run or a CI runner (gates/cache.py).

Exit status: 0 measured; 1 a measured command failed (its stderr is shown); 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

# The floors. Each imports what its subject imports before building anything,
# then synthesizes an App with nothing in it. They import the libraries
# directly on purpose: they measure the libraries, not this repository.
_NODE = "import sys, toolchain; toolchain.prefer_supported_node()"
AWS_FLOOR = (f"{_NODE}; import app; from aws_cdk import App; import stacks.stage; "
             "App(outdir=sys.argv[1]).synth()")
CDKTF_FLOOR = f"{_NODE}; " + "import cdktf; cdktf.App(outdir=sys.argv[1]).synth()"
PROVIDER_WHOLE = f"{_NODE}; " + "import cdktf_cdktf_provider_google"
FACADE_FIRST_CLASS = f"{_NODE}; from constructs_lib.gcp import tf; tf.storage_bucket.StorageBucket"


@dataclass
class Sample:
    seconds: float
    tree_rss_mb: float
    max_process_rss_mb: float


@dataclass
class Row:
    key: str
    title: str
    subject: list[str]
    reference: list[str] | None
    reference_title: str = ""
    heavy: bool = False
    samples: list[Sample] = field(default_factory=list)
    reference_samples: list[Sample] = field(default_factory=list)


class BenchError(Exception):
    pass


def _rss_of_tree(root_pid: int) -> float:
    """Resident memory (MB) of root_pid and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
            with open(f"/proc/{entry.name}/statm", "rb") as fh:
                resident = int(fh.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
        rss[int(entry.name)] = resident * page
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, ()))
    return total / 2**20


def _measure(cmd: list[str], cwd: Path, env: dict[str, str], label: str) -> Sample:
    log = tempfile.TemporaryFile()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            peak[0] = max(peak[0], _rss_of_tree(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # wait4, not Popen.wait: its rusage is this child's (and its reaped descendants') alone.
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        log.seek(0)
        tail = log.read().decode(errors="replace")[-3000:]
        log.close()
        raise BenchError(f"{label}: exit status {proc.returncode}: {' '.join(cmd)}\n{tail}")
    log.close()
    # ru_maxrss is in KiB on Linux: the largest of the child and its reaped descendants.
    return Sample(elapsed, peak[0], usage.ru_maxrss / 1024)


def _rows(root: Path, python: str, outdir: Path, pytest_args: list[str]) -> dict[str, Row]:
    gates = [python, "-m", "gates.run"]
    return {
        "aws": Row("aws", "AWS app synth (python app.py: both Stages, cdk-nag)", [python, "app.py"],
                   [python, "-c", AWS_FLOOR, str(outdir / "aws-floor")], "same imports + empty App().synth()"),
        "gcp": Row("gcp", "GCP app synth (python gcp_app.py: both stacks)", [python, "gcp_app.py"],
                   [python, "-c", CDKTF_FLOOR, str(outdir / "gcp-floor")], "import cdktf + empty App().synth()"),
        "provider": Row("provider", "importing the prebuilt Google provider package whole",
                        [python, "-c", PROVIDER_WHOLE],
                        [python, "-c", CDKTF_FLOOR, str(outdir / "gcp-floor")], "import cdktf + empty App().synth()"),
        "facade": Row("facade", "constructs_lib.gcp.tf + its first provider class",
                      [python, "-c", FACADE_FIRST_CLASS],
                      [python, "-c", CDKTF_FLOOR, str(outdir / "gcp-floor")], "import cdktf + empty App().synth()"),
        "gates": Row("gates", "bin/synth without install (both clouds, every gate)", gates, None, heavy=True),
        # bin/test itself (README command 2: its install check, then pytest on its parallel workers).
        "suite": Row("suite", "the test suite (bin/test " + " ".join(pytest_args) + ")",
                     [str(root / "bin" / "test"), "-p", "no:cacheprovider", "-q", *pytest_args], gates,
                     "bin/synth without install", heavy=True),
    }


def _environment(root: Path, outdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    # bin/env.sh, for a checkout that may not be this one.
    env.update(CHECKPOINT_DISABLE="1", CDK_DISABLE_VERSION_CHECK="1",
               PATH=f"{root / 'node_modules' / '.bin'}:{root / '.venv' / 'bin'}:{env.get('PATH', '')}",
               # The apps write here, not into the checkout.
               CDK_OUTDIR=str(outdir / "cdk.out"), CDKTF_OUTDIR=str(outdir / "cdktf.out"))
    env.pop("PYTHONPATH", None)
    return env


def _commit(root: Path) -> str:
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def _machine(root: Path, python: str) -> dict[str, object]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    node = subprocess.run([python, "-c", "import os, toolchain; toolchain.prefer_supported_node(); "
                                         "print(os.environ.get('JSII_NODE', 'node'))"],
                          cwd=root, capture_output=True, text=True).stdout.strip() or "node"
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    return {"host": platform.node(), "cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem_gb, 1),
            "python": platform.python_version(), "jsii_node": node_version,
            "root": str(root), "commit": _commit(root),
            "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def _stats(samples: list[Sample]) -> dict[str, float]:
    seconds = [s.seconds for s in samples]
    return {"median_s": round(statistics.median(seconds), 3), "min_s": round(min(seconds), 3),
            "max_s": round(max(seconds), 3),
            "peak_tree_rss_mb": round(max(s.tree_rss_mb for s in samples)),
            "peak_process_rss_mb": round(max(s.max_process_rss_mb for s in samples))}


def _summary(row: Row) -> dict[str, object]:
    out: dict[str, object] = {"key": row.key, "title": row.title, "command": row.subject,
                              "runs": len(row.samples), **_stats(row.samples),
                              "seconds": [round(s.seconds, 3) for s in row.samples]}
    if row.reference is not None:
        ref = _stats(row.reference_samples)
        out["reference"] = {"title": row.reference_title, "command": row.reference, **ref,
                            "seconds": [round(s.seconds, 3) for s in row.reference_samples]}
        out["ratio_of_medians"] = round(out["median_s"] / ref["median_s"], 2)
        out["ratio_of_minimums"] = round(out["min_s"] / ref["min_s"], 2)
    return out


def _print_table(machine: dict[str, object], rows: list[dict[str, object]], runs_note: str) -> None:
    print(f"bin/bench on {machine['host']}: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB; "
          f"Python {machine['python']}, jsii on Node {machine['jsii_node']}")
    print(f"checkout {machine['root']} at {machine['commit']}; started {machine['started_utc']}, "
          f"load average {machine['load_average_at_start']} -> {machine.get('load_average_at_end')}")
    print(runs_note)
    print()
    header = f"{'what':<54} {'median':>8} {'min-max':>13}   {'reference':>9} {'min-max':>13}   {'ratio':>6} {'(min)':>7}   {'peak tree':>9} {'process':>8}"
    print(header)
    print("-" * len(header))
    for r in rows:
        ref = r.get("reference")
        spread = f"{r['min_s']:.2f}-{r['max_s']:.2f}"
        if ref:
            ref_cols = f"{ref['median_s']:>8.2f}s {ref['min_s']:.2f}-{ref['max_s']:.2f}".rjust(9 + 1 + 13)
            ratio = f"{r['ratio_of_medians']:>5.1f}x {r['ratio_of_minimums']:>6.1f}x"
        else:
            ref_cols, ratio = " " * 23, " " * 14
        print(f"{r['title'][:54]:<54} {r['median_s']:>7.2f}s {spread:>13}   {ref_cols}   {ratio}   "
              f"{r['peak_tree_rss_mb']:>6} MB {r['peak_process_rss_mb']:>5} MB")
    for r in rows:
        if r.get("reference"):
            print(f"  reference of {r['key']}: {r['reference']['title']}")
    print("  ratio = median / reference median; (min) = fastest run / fastest reference run."
          " peak tree: all processes together (sampled); process: the largest one.")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bin/bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="measured runs of each command (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs of each command first (default 1)")
    parser.add_argument("--rows", default="aws,gcp,provider,facade",
                        help="comma-separated rows to measure (aws,gcp,provider,facade,gates,suite)")
    parser.add_argument("--all", action="store_true", help="every row, gates and suite included")
    parser.add_argument("--heavy-runs", type=int, default=1, help="measured runs of gates and suite (default 1)")
    parser.add_argument("--root", type=Path, default=HERE,
                        help="the checkout to measure (default: this one); its .venv is used")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("pytest_args", nargs="*", help="after --: arguments for the suite row's pytest")
    args = parser.parse_args(argv)
    known = ("aws", "gcp", "provider", "facade", "gates", "suite")
    args.row_keys = list(known) if args.all else [k.strip() for k in args.rows.split(",") if k.strip()]
    unknown = [k for k in args.row_keys if k not in known]
    if unknown or not args.row_keys:
        parser.error(f"--rows: unknown row(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(known)}")
    for name in ("runs", "heavy_runs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')}: must be at least 1, got {getattr(args, name)}")
    if args.warmup < 0:
        parser.error(f"--warmup: must be 0 or more, got {args.warmup}")
    args.root = args.root.resolve()
    if not (args.root / "app.py").is_file() or not (args.root / "gcp_app.py").is_file():
        parser.error(f"--root: {args.root}: not a checkout of this repository (no app.py / gcp_app.py)")
    if not os.access(args.root / ".venv" / "bin" / "python", os.X_OK):
        parser.error(f"--root: {args.root}: no .venv/bin/python (run bin/install there)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    python = str(args.root / ".venv" / "bin" / "python")
    outdir = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        env = _environment(args.root, outdir)
        machine = _machine(args.root, python)
        rows = _rows(args.root, python, outdir, args.pytest_args)
        selected = [rows[k] for k in args.row_keys]
        for row in selected:
            runs = args.heavy_runs if row.heavy else args.runs
            warmup = 0 if row.heavy else args.warmup
            print(f"bin/bench: {row.key}: {warmup} warm-up + {runs} runs"
                  + (" alternating with its reference" if row.reference else ""), file=sys.stderr, flush=True)
            for i in range(warmup + runs):
                order = [("subject", row.subject), ("reference", row.reference)]
                if i % 2:
                    order.reverse()
                for kind, cmd in order:
                    if cmd is None:
                        continue
                    # Each run starts with an empty gate cache (gates/cache.py): the gates row is
                    # one cold bin/synth, what a first run or a CI runner pays, never a warm re-run.
                    cold = {**env, "GATES_CACHE_DIR": tempfile.mkdtemp(prefix="gates-cache-", dir=outdir)}
                    sample = _measure(cmd, args.root, cold, f"{row.key} {kind}")
                    if i >= warmup:
                        (row.samples if kind == "subject" else row.reference_samples).append(sample)
        machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    except BenchError as error:
        print(f"bin/bench: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
    summaries = [_summary(row) for row in selected]
    light = [r for r in selected if not r.heavy]
    note = ((f"{args.runs} runs per row after {args.warmup} warm-up, subject and reference alternating" if light else "")
            + ("; " if light and len(light) < len(selected) else "")
            + (f"gates/suite: {args.heavy_runs} run(s)" if len(light) < len(selected) else "")
            + ". Shared machine: other work runs meanwhile; the minimums are the least disturbed runs.")
    if args.json:
        print(json.dumps({"machine": machine, "note": note, "rows": summaries}, indent=2))
    else:
        _print_table(machine, summaries, note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
