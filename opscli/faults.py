"""Fault injection at the write boundaries of an operator command.

``rotate-nonce`` calls :func:`point` before and after each of its writes.
Tests kill the process exactly there, never by timing:

* ``OPS_FAULT_KILL_AT=<point>`` in the environment: the process sends itself
  SIGKILL at that point (what ``kill -9`` or a lost machine does);
* :data:`hook`, in-process: a callable run at every point (a test raises from it).

With neither set, a point costs one dictionary lookup.
"""
from __future__ import annotations

import os
import signal
from typing import Callable

ENV = "OPS_FAULT_KILL_AT"
hook: Callable[[str], None] | None = None


def point(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if hook is not None:
        hook(name)
