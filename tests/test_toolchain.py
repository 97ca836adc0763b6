"""toolchain.py: which Node each CLI runs on."""
from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest

import toolchain

ROOT = Path(__file__).resolve().parents[1]


def fake_node(directory: Path, version: str, abi: str) -> Path:
    directory.mkdir(parents=True)
    node = directory / "node"
    node.write_text(f"#!/bin/sh\necho '{version} {abi}'\n")
    node.chmod(0o755)
    return node


@pytest.fixture
def nodes(tmp_path, monkeypatch):
    monkeypatch.delenv("CDKTF_NODE", raising=False)
    toolchain._node_facts.cache_clear()
    prebuilds = tmp_path / "prebuilds" / toolchain._prebuild_platform()
    prebuilds.mkdir(parents=True)
    for abi in ("115", "127"):  # node-pty 0.10's prebuilds stop at Node 22
        (prebuilds / f"node.abi{abi}.node").write_text("")
    monkeypatch.setattr(toolchain, "_PTY_PREBUILDS", tmp_path / "prebuilds")
    made = {v: fake_node(tmp_path / f"n{v}", *facts) for v, facts in
            {"24": ("24.19.0", "137"), "22": ("22.23.5", "127"), "20": ("20.20.2", "115")}.items()}
    yield made
    toolchain._node_facts.cache_clear()


def use_path(monkeypatch, *dirs: Path) -> None:
    monkeypatch.setenv("PATH", os.pathsep.join([*(str(d) for d in dirs), "/usr/bin", "/bin"]))


def test_cdktf_skips_node_24_and_takes_the_supported_node_22(nodes, monkeypatch):
    use_path(monkeypatch, nodes["24"].parent, nodes["20"].parent, nodes["22"].parent)
    notice = io.StringIO()
    assert toolchain.cdktf_node(notice=notice) == str(nodes["22"])
    assert notice.getvalue() == ""


def test_cdktf_falls_back_to_an_end_of_life_node_saying_so(nodes, monkeypatch):
    use_path(monkeypatch, nodes["24"].parent, nodes["20"].parent)
    notice = io.StringIO()
    assert toolchain.cdktf_node(notice=notice) == str(nodes["20"])
    assert "cdktf-cli runs on Node 20 (end of life)" in notice.getvalue()


def test_cdktf_node_can_be_named(nodes, monkeypatch):
    use_path(monkeypatch, nodes["20"].parent)
    monkeypatch.setenv("CDKTF_NODE", str(nodes["22"]))
    assert toolchain.cdktf_node(notice=io.StringIO()) == str(nodes["22"])


def test_the_cdk_cli_runs_on_the_wheels_supported_node():
    node = toolchain.cdk_cli()[0]
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
    assert int(version.lstrip("v").split(".")[0]) in toolchain.SUPPORTED_NODE_MAJORS


def test_the_cdk_shim_prints_the_pinned_cli_version():
    proc = subprocess.run([str(ROOT / "bin" / "shims" / "cdk"), "--version"], capture_output=True, text=True, timeout=120, cwd="/")
    assert proc.returncode == 0 and proc.stdout.startswith("2.1148.")
