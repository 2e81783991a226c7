"""Worker processes that die with the command that started them.

Rendering and importing fork worker processes. A forked child inherits both ends of its
queue's pipe, so when its parent is killed (a closed terminal, ``kill -9``) it never sees the
pipe close and would wait for ever, holding files and memory. On Linux the kernel can kill a
child when its parent dies (``PR_SET_PDEATHSIG``); elsewhere a small thread checks the
parent's pid. Either way a worker outliving its command exits at once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Call first thing in a worker: exit when the process ``parent_pid`` is gone.

    Args:
        parent_pid: the parent's pid, taken *before* forking (the parent may already be dead,
            and the worker re-parented, by the time this runs).
    """
    if sys.platform.startswith("linux") and _prctl_deathsig():
        if os.getppid() != parent_pid:  # died before the signal was armed
            os._exit(1)
        return
    threading.Thread(target=_watch, args=(parent_pid,), daemon=True, name="lifeline").start()


def _prctl_deathsig() -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(1)
