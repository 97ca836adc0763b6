"""Fault injection at the write boundaries of an operator command.

``rotate-nonce`` and ``deploy`` / ``rollback`` call :func:`point` before and
after each of their writes. Tests stop the process exactly there, never by
timing:

* ``OPS_FAULT_KILL_AT=<point>`` in the environment: the process sends itself
  SIGKILL at that point (what ``kill -9`` or a lost machine does);
* ``OPS_FAULT_PAUSE_AT=<point>`` with ``OPS_FAULT_PAUSE_FILE=<path>``: at
  that point the process creates ``<path>`` and waits (at most
  PAUSE_MAX_SECONDS) until it is deleted, so a test can act in between, as a
  second operator or an attacker on the same machine would;
* :data:`hook`, in-process: a callable run at every point (a test raises from it).

With none set, a point costs two dictionary lookups.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Callable

ENV = "OPS_FAULT_KILL_AT"
PAUSE_ENV = "OPS_FAULT_PAUSE_AT"
PAUSE_FILE_ENV = "OPS_FAULT_PAUSE_FILE"
PAUSE_MAX_SECONDS = 300.0
hook: Callable[[str], None] | None = None


def point(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(PAUSE_ENV) == name and os.environ.get(PAUSE_FILE_ENV):
        marker = Path(os.environ[PAUSE_FILE_ENV])
        marker.write_text(f"{os.getpid()} paused at {name}\n")
        deadline = time.monotonic() + PAUSE_MAX_SECONDS
        while marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    if hook is not None:
        hook(name)
