"""Generated broken configuration files (Hypothesis): every one either loads
or is refused with one line ``<file>[:<line>]: <field>: <rule>``, and never
with any other exception (what would be a traceback out of ``cdk synth``).

Most examples check the loaders only (milliseconds each); a few that load
are synthesized, to show a file the loader accepts also builds.

The mutations are what people do to YAML: set a field to a value of another
type, or out of range, or not finite; delete a field; add or misspell a key;
duplicate, drop or re-indent a line; paste a byte that is not UTF-8.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envconfig import ConfigError, aws, contract, gcp
from envconfig.location import ENV, REPO_CONFIG_DIR

FILES = ("aws/staging.yaml", "aws/production.yaml", "gcp/staging.yaml", "gcp/production.yaml", "env_contract.yaml")
MESSAGE = re.compile(r"(?P<file>\S+?\.yaml)(?::(?P<line>\d+))?: (?P<field>[^\n]+?): (?P<rule>[^\n]+)")
EXAMPLES = 400
SYNTHESIZED = 2

VALUES = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=24),
    st.sampled_from(["", "0", "-1", "1e309", "AWS/X", "owner/name.git", "https://a.example/path", "8", "512Gi", "roles/owner",
                     "STANDARD_HA", "BASIC", "production", "staging", "2026-01-01", "\ufeffx", "\x00"]),
    st.lists(st.one_of(st.integers(-5, 500), st.text(max_size=6)), max_size=4),
    st.dictionaries(st.text(max_size=6), st.integers(-5, 5), max_size=2),
)


def leaves(node, prefix=()):
    """Every path into the parsed file (mappings and lists), the containers included."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from leaves(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from leaves(value, (*prefix, index))


def originals() -> dict[str, str]:
    return {name: (REPO_CONFIG_DIR / name).read_text() for name in FILES}


ORIGINALS = originals()
PATHS = {name: list(leaves(yaml.safe_load(text))) for name, text in ORIGINALS.items()}


@st.composite
def broken(draw):
    """(file name, new bytes of that file, what was done)."""
    name = draw(st.sampled_from(FILES))
    text = ORIGINALS[name]
    kind = draw(st.sampled_from(["set", "set", "set", "delete", "add", "rename", "line", "bytes"]))
    if kind in ("set", "delete", "add", "rename"):
        data = yaml.safe_load(text)
        path = draw(st.sampled_from(PATHS[name]))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        if kind == "set":
            parent[last] = draw(VALUES)
        elif kind == "delete":
            del parent[last]
        elif kind == "add" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(VALUES)
        elif kind == "rename" and isinstance(parent, dict):
            parent[str(last)[:-1] or "x"] = parent.pop(last)
        return name, yaml.safe_dump(data, allow_unicode=True).encode(), f"{kind} {'.'.join(map(str, path))}"
    lines = text.splitlines(keepends=True)
    index = draw(st.integers(0, len(lines) - 1))
    if kind == "line":
        how = draw(st.sampled_from(["duplicate", "drop", "tab", "unindent", "colon"]))
        line = lines[index]
        lines[index] = {"duplicate": line + line, "drop": "", "tab": "\t" + line, "unindent": line.lstrip(),
                        "colon": line.replace(":", " =", 1)}[how]
        return name, "".join(lines).encode(), f"line {index + 1} {how}"
    data = "".join(lines).encode()
    at = draw(st.integers(0, len(data)))
    junk = draw(st.binary(min_size=1, max_size=3))
    return name, data[:at] + junk + data[at:], f"bytes {junk!r} at {at}"


@contextmanager
def candidate_dir():
    root = Path(tempfile.mkdtemp(prefix="md-config-"))
    shutil.copytree(REPO_CONFIG_DIR, root / "config")
    previous = os.environ.get(ENV)
    os.environ[ENV] = str(root / "config")
    try:
        yield root / "config"
    finally:
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous
        shutil.rmtree(root, ignore_errors=True)


def load_everything(name: str = "") -> None:
    """The loaders that read ``name`` (with its sibling, for the rules across files); all by default."""
    if name.startswith("aws/") or not name:
        aws.load_all()
    if name.startswith("gcp/") or not name:
        gcp.load_all()
    if name == "env_contract.yaml" or not name:
        contract.load_contract()


def assert_one_line_naming_file_and_field(error: ConfigError, directory: Path, name: str) -> None:
    text = str(error)
    assert "\n" not in text, text
    match = MESSAGE.fullmatch(text)
    assert match, text
    # The file named is the one edited, or (for a rule across files) its sibling in the same directory.
    assert Path(match["file"]).parent.parent in (directory, directory.parent) or Path(match["file"]).parent == directory, text
    assert match["field"].strip() and match["rule"].strip(), text


TRIED: list[str] = []


@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(broken())
def test_generated_files_load_or_fail_in_one_line(case):
    name, content, what = case
    TRIED.append(what)
    with candidate_dir() as directory:
        (directory / name).write_bytes(content)
        try:
            load_everything(name)
        except ConfigError as error:
            assert_one_line_naming_file_and_field(error, directory, name)


def test_how_many_were_tried():
    """Reported by `pytest -s`: the number of generated files the property ran on."""
    if not TRIED:
        pytest.skip("run together with test_generated_files_load_or_fail_in_one_line")
    print(f"\ngenerated configuration files tried: {len(TRIED)}")
    assert len(TRIED) >= EXAMPLES // 2


ACCEPTED_NUMERIC = st.sampled_from([
    ("aws/staging.yaml", ("data", "pitr_recovery_period_days"), st.integers(1, 35)),
    ("aws/staging.yaml", ("observability", "thresholds", "api_latency_p95_ms", "threshold"), st.floats(0, 500)),
    ("aws/staging.yaml", ("runtime", "memory_mb"), st.integers(128, 10240)),
])


@settings(max_examples=SYNTHESIZED, deadline=None, database=None, derandomize=True)
@given(ACCEPTED_NUMERIC.flatmap(lambda c: st.tuples(st.just(c[0]), st.just(c[1]), c[2])))
def test_a_file_the_loader_accepts_synthesizes(case):
    import app as cdk_app

    name, path, value = case
    with candidate_dir() as directory:
        data = yaml.safe_load((directory / name).read_text())
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
        (directory / name).write_text(yaml.safe_dump(data))
        configs = aws.load_all()
        with tempfile.TemporaryDirectory() as outdir:
            application, _ = cdk_app.build_app(configs, outdir=outdir)
            application.synth()
