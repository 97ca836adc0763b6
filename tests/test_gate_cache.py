"""gates/cache.py: a gate's pass is reused only for the same bytes under the same rules and tools.

The key's inputs are built in a throw-away copy of the layout (gates/, policy/,
the pin files, a virtual environment's dist-info directories), so each input
can be changed without touching the repository. The last tests run the real
gates of gates/run.py twice on a good and a bad template.
"""
from __future__ import annotations

import json
import multiprocessing
import shutil
from pathlib import Path

import pytest

from gates import cache as cache_module
from gates.cache import GateCache, inputs_digest

ROOT = Path(__file__).resolve().parents[1]

GOOD_TEMPLATE = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": "alias/topic"}}}}
# cfn-lint: BillingMode is not one of its values; checkov: an unencrypted, unlogged, unversioned bucket.
BAD_LINT_TEMPLATE = {"Resources": {"T": {"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "SOMETIMES"}}}}
BAD_CHECKOV_TEMPLATE = {"Resources": {"Careless": {"Type": "AWS::S3::Bucket", "Properties": {}}}}


@pytest.fixture
def layout(tmp_path) -> dict[str, Path]:
    """A repository-shaped tree holding the key's inputs, and an empty home directory."""
    root = tmp_path / "repo"
    (root / "gates").mkdir(parents=True)
    shutil.copy(ROOT / "gates" / "run.py", root / "gates" / "run.py")
    (root / "policy").mkdir()
    shutil.copy(ROOT / "policy" / "checkov_skips.yaml", root / "policy" / "checkov_skips.yaml")
    (root / "requirements.txt").write_text("cfn-lint==1.58.0\n")
    (root / "requirements-checkov.txt").write_text("checkov==3.3.30\n")
    for venv, dist in ((".venv", "cfn_lint-1.58.0"), (".venv-checkov", "checkov-3.3.30")):
        (root / venv / "lib" / "python3.11" / "site-packages" / f"{dist}.dist-info").mkdir(parents=True)
        (root / venv / "pyvenv.cfg").write_text("version = 3.11.7\n")
    home = tmp_path / "home"
    home.mkdir()
    template = tmp_path / "out" / "StagingData.template.json"
    template.parent.mkdir()
    template.write_text(json.dumps(GOOD_TEMPLATE))
    return {"root": root, "home": home, "template": template, "cache": tmp_path / "cache"}


def digest(layout, environ=None) -> str:
    root = layout["root"]
    return inputs_digest([root / ".venv", root / ".venv-checkov"], root=root, home=layout["home"], environ=environ or {})


def passed_before(layout, environ=None) -> bool:
    """Record a pass under the inputs as they are, then ask whether the file still counts as passed."""
    cache = GateCache("checkov-cloudformation-aws", digest(layout, environ), layout["cache"])
    template = layout["template"]
    hits, _ = cache.partition([template])
    return template in hits


def record(layout, environ=None) -> None:
    cache = GateCache("checkov-cloudformation-aws", digest(layout, environ), layout["cache"])
    _, to_check = cache.partition([layout["template"]])
    cache.record(layout["template"], to_check[layout["template"]], {"passed": 3})


def test_a_pass_is_reused_for_the_same_bytes_with_what_it_recorded(layout):
    cache = GateCache("cfn-lint", digest(layout), layout["cache"])
    template = layout["template"]
    hits, to_check = cache.partition([template])
    assert hits == {} and list(to_check) == [template]
    cache.record(template, to_check[template], {"passed": 3, "failed": 0})
    copy = layout["root"].parent / "elsewhere" / template.name  # the same file synthesized into another directory
    copy.parent.mkdir()
    shutil.copy(template, copy)
    hits, to_check = GateCache("cfn-lint", digest(layout), layout["cache"]).partition([template, copy])
    assert hits == {template: {"passed": 3, "failed": 0}, copy: {"passed": 3, "failed": 0}} and to_check == {}
    # another gate has not passed it
    assert GateCache("checkov-cloudformation-aws", digest(layout), layout["cache"]).partition([template])[0] == {}


def test_a_changed_file_is_checked_again(layout):
    record(layout)
    layout["template"].write_text(json.dumps(GOOD_TEMPLATE, indent=1))  # same document, other bytes
    assert not passed_before(layout)


@pytest.mark.parametrize("change", [
    pytest.param(lambda root: (root / "policy" / "checkov_skips.yaml").write_text(
        (root / "policy" / "checkov_skips.yaml").read_text() + "\n# one more line\n"), id="checkov-skips"),
    pytest.param(lambda root: (root / "gates" / "run.py").write_text(
        (root / "gates" / "run.py").read_text() + "\n"), id="gates-source"),
    pytest.param(lambda root: (root / "gates" / "new_gate.py").write_text("X = 1\n"), id="gates-new-file"),
    pytest.param(lambda root: (root / ".venv-checkov" / "lib" / "python3.11" / "site-packages" / "checkov-3.3.30.dist-info").rename(
        root / ".venv-checkov" / "lib" / "python3.11" / "site-packages" / "checkov-3.3.31.dist-info"), id="checkov-version"),
    pytest.param(lambda root: (root / ".venv" / "lib" / "python3.11" / "site-packages" / "cfn_lint-1.58.0.dist-info").rename(
        root / ".venv" / "lib" / "python3.11" / "site-packages" / "cfn_lint-1.59.0.dist-info"), id="cfn-lint-version"),
    pytest.param(lambda root: (root / ".venv" / "pyvenv.cfg").write_text("version = 3.12.1\n"), id="python-version"),
    pytest.param(lambda root: (root / "requirements-checkov.txt").write_text("checkov==3.3.31\n"), id="checkov-pin"),
    pytest.param(lambda root: (root / ".cfnlintrc").write_text("ignore_checks: [E3030]\n"), id="cfn-lint-config"),
    pytest.param(lambda root: (root / ".checkov.yaml").write_text("skip-check: [CKV_AWS_18]\n"), id="checkov-config"),
])
def test_any_input_of_the_verdict_changed_is_a_miss(layout, change):
    record(layout)
    assert passed_before(layout)
    change(layout["root"])
    assert not passed_before(layout)


def test_checkov_options_from_the_environment_are_in_the_key(layout):
    record(layout, {"HOME_IRRELEVANT": "1"})
    assert passed_before(layout, {"PATH": "/elsewhere"})  # not an option of the tools
    assert not passed_before(layout, {"CKV_SKIP_CHECK": "CKV_AWS_18"})


def test_a_config_file_in_home_is_in_the_key(layout):
    record(layout)
    (layout["home"] / ".cfnlintrc").write_text("ignore_checks: [E3030]\n")
    assert not passed_before(layout)


@pytest.mark.parametrize("content", ["", "{not json", "[]", '{"gate": "checkov-cloudformation-aws"}', "\x00\x01"])
def test_a_corrupt_entry_is_a_miss(layout, content):
    record(layout)
    [entry] = list((layout["cache"] / "checkov-cloudformation-aws").glob("*.json"))
    entry.write_text(content)
    assert not passed_before(layout)


def test_an_entry_moved_to_another_key_or_gate_is_a_miss(layout):
    record(layout)
    [entry] = list((layout["cache"] / "checkov-cloudformation-aws").glob("*.json"))
    other = entry.with_name("0" * 64 + ".json")
    shutil.copy(entry, other)
    cache = GateCache("checkov-cloudformation-aws", digest(layout), layout["cache"])
    assert cache.lookup("0" * 64) is None
    moved = layout["cache"] / "cfn-lint" / entry.name
    moved.parent.mkdir()
    shutil.copy(entry, moved)
    assert GateCache("cfn-lint", digest(layout), layout["cache"]).partition([layout["template"]])[0] == {}


def test_details_the_gate_cannot_use_are_a_miss(layout):
    record(layout)  # recorded {"passed": 3}: no failed/skipped/resource_count
    cache = GateCache("checkov-cloudformation-aws", digest(layout), layout["cache"])
    hits, to_check = cache.partition([layout["template"]], accept=lambda d: d["resource_count"] > 0)
    assert hits == {} and list(to_check) == [layout["template"]]


def test_a_file_changed_during_its_check_is_not_recorded(layout):
    cache = GateCache("cfn-lint", digest(layout), layout["cache"])
    _, to_check = cache.partition([layout["template"]])
    layout["template"].write_text(json.dumps(BAD_LINT_TEMPLATE))  # rewritten while the gate ran
    cache.record(layout["template"], to_check[layout["template"]], {})
    assert not (layout["cache"] / "cfn-lint").exists() or not list((layout["cache"] / "cfn-lint").iterdir())


def test_disabled_cache_checks_everything_and_records_nothing(layout):
    cache = GateCache("cfn-lint", digest(layout), None)
    _, to_check = cache.partition([layout["template"]])
    cache.record(layout["template"], to_check[layout["template"]], {})
    assert not cache.enabled and cache.partition([layout["template"]])[1] == to_check
    assert not layout["cache"].exists()


def test_an_unwritable_cache_is_reported_once_and_the_gate_goes_on(layout, capsys):
    layout["cache"].write_text("a file where the directory should be")
    cache = GateCache("cfn-lint", digest(layout), layout["cache"])
    _, to_check = cache.partition([layout["template"]])
    for _ in range(2):
        cache.record(layout["template"], to_check[layout["template"]], {})
    assert capsys.readouterr().err.count("cannot record passes") == 1


def _write_many(args) -> int:
    directory, files, rounds = args
    cache = GateCache("cfn-lint", "inputs", Path(directory))
    for _ in range(rounds):
        for name in files:
            path = Path(name)
            cache.record(path, cache.key(path), {"file": path.name, "padding": "x" * 200_000})
    return 0


def _read_many(args) -> int:
    """Read every entry that exists, over and over, while the writers run: count the torn ones."""
    directory, files, rounds = args
    cache = GateCache("cfn-lint", "inputs", Path(directory))
    entries = [Path(directory) / "cfn-lint" / f"{cache.key(Path(f))}.json" for f in files]
    torn = 0
    for _ in range(rounds * 20):
        for entry in entries:
            try:
                text = entry.read_text()
            except FileNotFoundError:
                continue
            try:
                json.loads(text)
            except ValueError:
                torn += 1
    return torn


def _work(args) -> int:
    role, *rest = args
    return _write_many(rest) if role == "write" else _read_many(rest)


def test_concurrent_writers_leave_only_whole_entries(tmp_path):
    files = []
    for i in range(20):
        path = tmp_path / f"t{i}.template.json"
        path.write_text(json.dumps({"Resources": {f"R{i}": {"Type": "AWS::SNS::Topic"}}}))
        files.append(str(path))
    directory = tmp_path / "cache"
    jobs = [("write", str(directory), files, 5)] * 3 + [("read", str(directory), files, 5)] * 2
    with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
        torn = pool.map(_work, jobs)
    assert torn == [0] * len(jobs), "a reader saw a partly written entry"
    cache = GateCache("cfn-lint", "inputs", directory)
    hits, to_check = cache.partition(map(Path, files))
    assert to_check == {} and all(d["file"] == Path(f).name for f, d in zip(files, hits.values()))
    # only entries: no temporary file left behind
    assert sorted(p.name for p in (directory / "cfn-lint").iterdir()) == sorted(f"{cache.key(Path(f))}.json" for f in files)


def test_gates_cache_dir_is_read_from_the_environment(tmp_path):
    assert cache_module.cache_dir({"GATES_CACHE_DIR": str(tmp_path)}) == tmp_path
    assert cache_module.cache_dir({}) == ROOT / ".gates-cache"


# The real gates (gates/run.py), each run twice on a template that passes and one that fails.

def _templates(tmp_path, bad: dict) -> tuple[Path, Path]:
    good, failing = tmp_path / "Good.template.json", tmp_path / "Bad.template.json"
    good.write_text(json.dumps(GOOD_TEMPLATE))
    failing.write_text(json.dumps(bad))
    return good, failing


@pytest.mark.gates
def test_cfn_lint_records_the_pass_and_never_the_failure(tmp_path, capsys):
    from gates.run import cfn_lint_gate

    good, bad = _templates(tmp_path, BAD_LINT_TEMPLATE)
    ok, detail, _ = cfn_lint_gate([good, bad], tmp_path / "cache")
    assert not ok and "E3030" in detail and str(bad) in detail and str(good) not in detail
    assert "cfn-lint: 2 templates, 0 unchanged since they passed, 2 checked" in capsys.readouterr().out
    ok, detail, _ = cfn_lint_gate([good, bad], tmp_path / "cache")
    assert not ok and "E3030" in detail  # failed again: the failure was not recorded
    out = capsys.readouterr().out
    assert "cfn-lint: 2 templates, 1 unchanged since they passed, 1 checked" in out and "checking: Bad.template.json" in out


@pytest.mark.gates
def test_checkov_records_the_pass_with_its_counts_and_never_the_failure(tmp_path, capsys):
    from gates.run import checkov_gate

    good, bad = _templates(tmp_path, BAD_CHECKOV_TEMPLATE)
    args = dict(framework="cloudformation", cloud="aws", directory=tmp_path / "cache")
    first, _ = checkov_gate("checkov (CloudFormation)", "templates", [good, bad], **args)
    assert first.failed >= 4 and {Path(f.file).name for f in first.findings} == {bad.name}
    assert "2 templates, 0 unchanged since they passed, 2 checked" in capsys.readouterr().out
    second, _ = checkov_gate("checkov (CloudFormation)", "templates", [good, bad], **args)
    assert "2 templates, 1 unchanged since they passed, 1 checked" in capsys.readouterr().out
    # the bad template was checked again and failed again; the totals still count the good one
    assert second == first
    fresh, _ = checkov_gate("checkov (CloudFormation)", "templates", [good, bad], **{**args, "directory": None})
    assert "2 templates, 2 checked (cache off)" in capsys.readouterr().out and fresh == first
