"""The lazily loaded provider (constructs_lib/gcp/tf.py, lazy_index.*) changes nothing but time.

The reference is the whole provider imported the way its package ``__init__``
does (``GCP_PROVIDER_LOADING=eager``, in a subprocess: it takes ~15 s); the
session's synthesis (``gcp_synth``) is the lazy one. No timing here: speed is
measured by ``bin/bench``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from constructs_lib.gcp import lazy_index

ROOT = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent("""
    import json, sys
    import toolchain
    toolchain.prefer_supported_node()
    import gcp_app
    from constructs_lib.gcp import tf
    gcp_app.build_app(outdir=sys.argv[1]).synth()
    print(json.dumps(sorted(m for m in sys.modules if m.startswith(tf.PROVIDER_PACKAGE + "."))))
""")


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _provider_submodules_loaded(names: list[str], package: str) -> set[str]:
    """Top-level provider submodules among loaded module names (``<pkg>.<sub>``, not ``<pkg>.<sub>._private``)."""
    return {n.split(".")[1] for n in names
            if n.startswith(package + ".") and n.count(".") == 1 and not n.endswith("._jsii")}


@pytest.fixture(scope="module")
def eager_synth(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("cdktf-eager.out")
    env = {**os.environ, lazy_index.MODE_ENV: "eager"}
    env.pop(lazy_index.PACKAGES_ENV, None)  # the session exports the preload; without this it is inert
    proc = subprocess.run([sys.executable, "-c", PROBE, str(outdir)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return outdir, json.loads(proc.stdout.strip().splitlines()[-1])


def test_same_terraform_json_byte_for_byte(gcp_synth, eager_synth):
    from constructs_lib.gcp import tf

    eager_dir, eager_modules = eager_synth
    lazy_dir = next(iter(gcp_synth.values())).path.parents[2]
    eager_files, lazy_files = _tree(eager_dir), _tree(lazy_dir)
    # The reference really loaded the whole provider (else this compares lazy with lazy).
    assert len(_provider_submodules_loaded(eager_modules, tf.PROVIDER_PACKAGE)) > 1400
    assert sorted(lazy_files) == sorted(eager_files)
    assert {"manifest.json", "stacks/gcp-staging/cdk.tf.json", "stacks/gcp-production/cdk.tf.json"} <= set(lazy_files)
    for name, content in eager_files.items():
        assert lazy_files[name] == content, f"{name} differs between lazy and eager provider loading"


def test_the_session_loaded_only_the_listed_submodules(gcp_synth):
    from constructs_lib.gcp import tf

    loaded = _provider_submodules_loaded(list(sys.modules), tf.PROVIDER_PACKAGE)
    assert loaded <= set(tf.PROVIDER_SUBMODULES)
    assert "storage_bucket" in loaded  # the stacks did go through the lazy path


def test_provider_names_resolve_and_unknown_names_fail():
    from constructs_lib.gcp import tf

    assert tf.storage_bucket.StorageBucket.__module__ == f"{tf.PROVIDER_PACKAGE}.storage_bucket"
    assert set(tf.PROVIDER_SUBMODULES) <= set(dir(tf)) and set(tf.PROVIDER_SUBMODULES) <= set(tf.__all__)
    assert list(tf.PROVIDER_SUBMODULES) == sorted(set(tf.PROVIDER_SUBMODULES))  # one per line, alphabetical
    with pytest.raises(AttributeError, match="PROVIDER_SUBMODULES"):
        tf.compute_disk  # noqa: B018  a real provider submodule, but not listed


def test_mode_switch_rejects_garbage():
    with pytest.raises(ValueError, match="GCP_PROVIDER_LOADING: <environment variable>: must be 'lazy' or 'eager'"):
        lazy_index.lazy_requested({"GCP_PROVIDER_LOADING": "fast"})


def test_gcp_app_reports_a_bad_mode_in_one_line():
    env = {**os.environ, lazy_index.MODE_ENV: "fast"}
    proc = subprocess.run([sys.executable, "gcp_app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("gcp_app: configuration error: GCP_PROVIDER_LOADING: <environment variable>: "
                                   "must be 'lazy' or 'eager', got 'fast'")


def test_preload_option_is_added_once_and_not_in_eager_mode():
    environ = {"NODE_OPTIONS": "--max-old-space-size=4096"}
    lazy_index.apply(environ)
    lazy_index.apply(environ)
    assert environ["NODE_OPTIONS"].startswith("--max-old-space-size=4096 --require ")
    assert environ["NODE_OPTIONS"].count("--require") == 1
    assert environ[lazy_index.PACKAGES_ENV] == "@cdktf/provider-google"
    eager = {lazy_index.MODE_ENV: "eager"}
    lazy_index.apply(eager)
    assert eager == {lazy_index.MODE_ENV: "eager"}


def test_preload_defers_submodules_of_the_named_package_only(tmp_path):
    """lazy_index.cjs on a miniature package: only what is touched is loaded."""
    node = os.environ.get("JSII_NODE", "node")  # tests/conftest.py: toolchain.prefer_supported_node()
    probe = subprocess.run([node, "-e", "console.log(typeof require('node:module').registerHooks)"],
                           capture_output=True, text=True)
    if probe.stdout.strip() != "function":
        pytest.skip(f"{node} has no module.registerHooks; the preload is inert there by design")
    for package in ("@cdktf/provider-google", "@other/eager"):
        lib = tmp_path / "node_modules" / package / "lib"
        for sub in ("alpha-one", "beta"):
            (lib / sub).mkdir(parents=True)
            (lib / sub / "index.js").write_text(
                f"globalThis.loaded = (globalThis.loaded || []).concat('{package}/{sub}');\nexports.X = '{sub}';\n")
        (lib / "index.js").write_text(
            '"use strict";\nObject.defineProperty(exports, "__esModule", { value: true });\n'
            'exports.beta = exports.alphaOne = void 0;\n'
            'exports.alphaOne = require("./alpha-one");\nexports.beta = require("./beta");\n')
        (lib.parent / "package.json").write_text(json.dumps({"name": package, "main": "lib/index.js"}))
    script = ("const g = require('@cdktf/provider-google'); require('@other/eager');"
              "const before = [...(globalThis.loaded || [])];"
              "const x = g.alphaOne.X;"
              "console.log(JSON.stringify({before, after: globalThis.loaded, x, keys: Object.keys(g)}));")
    env = {**os.environ, "NODE_OPTIONS": f'--require "{lazy_index.PRELOAD}"',
           lazy_index.PACKAGES_ENV: "@cdktf/provider-google"}
    proc = subprocess.run([node, "-e", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["before"] == ["@other/eager/alpha-one", "@other/eager/beta"]  # other packages: untouched
    assert result["after"] == [*result["before"], "@cdktf/provider-google/alpha-one"]  # beta never loaded
    assert result["x"] == "alpha-one"
    assert result["keys"] == ["alphaOne", "beta"]
