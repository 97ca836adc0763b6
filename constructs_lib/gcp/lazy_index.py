"""Start the jsii kernel so that it loads the Google provider's JavaScript lazily.

The provider's npm package index requires all ~1,470 submodules (about 2 s
of compiling on this machine) before the first resource exists.
``lazy_index.cjs`` (next to this file), preloaded into the kernel's Node.js
with ``--require``, turns those exports into getters, so only the submodules
a stack uses are loaded. The Python half of the same idea is in ``tf.py``.

The preload has to be in place when the kernel process starts (once per
Python process, at the first jsii import). ``kernel_environment()`` adds it
for that moment only, so no other Node.js process inherits it; the test
session, whose kernel may be started by aws-cdk-lib first, sets it for the
whole session with ``export_for_process()``.

``GCP_PROVIDER_LOADING=eager`` turns all of this off (and makes ``tf.py``
import the whole provider, as its package ``__init__`` does): the reference
for the byte-for-byte test and for ``bin/bench``.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, MutableMapping

from envconfig.errors import ConfigError

MODE_ENV = "GCP_PROVIDER_LOADING"
PACKAGES_ENV = "LAZY_INDEX_PACKAGES"
PRELOAD = Path(__file__).resolve().with_name("lazy_index.cjs")
# The npm package (jsii assembly) behind the provider's Python package.
NPM_PACKAGES = ("@cdktf/provider-google",)


def lazy_requested(environ: MutableMapping[str, str] = os.environ) -> bool:
    value = environ.get(MODE_ENV, "lazy")
    if value not in ("lazy", "eager"):
        # A ConfigError: gcp_app.py prints it as one line and exits 2.
        raise ConfigError(MODE_ENV, "<environment variable>", f"must be 'lazy' or 'eager', got {value!r}")
    return value == "lazy"


def _require_option() -> str:
    # NODE_OPTIONS splits on spaces; double quotes keep a path with spaces whole.
    return '--require "{}"'.format(str(PRELOAD).replace("\\", "\\\\").replace('"', '\\"'))


def apply(environ: MutableMapping[str, str]) -> None:
    """Add the preload to ``environ`` (idempotent); nothing in eager mode."""
    if not lazy_requested(environ):
        return
    option = _require_option()
    current = environ.get("NODE_OPTIONS", "")
    if option not in current:
        environ["NODE_OPTIONS"] = f"{current} {option}".strip()
    names = [n for n in environ.get(PACKAGES_ENV, "").split(",") if n]
    environ[PACKAGES_ENV] = ",".join(dict.fromkeys([*names, *NPM_PACKAGES]))


@contextmanager
def kernel_environment() -> Iterator[None]:
    """The preload in this process's environment while the block starts the kernel, then restored."""
    saved = {name: os.environ.get(name) for name in ("NODE_OPTIONS", PACKAGES_ENV)}
    apply(os.environ)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def export_for_process() -> None:
    """The preload for every Node.js this process starts (the test session)."""
    apply(os.environ)
