"""Content files parsed once per process while they are unchanged.

Every workspace object has its own catalogs, and the terminal app opens a workspace for each
background read (one SQLite connection per thread). A cache per catalog would parse every
playbook and template again on each read; this one is shared by the whole process.

A file is known by its resolved path, inode, modification time (ns) and size, and by the name
it is shown under in messages (which depends on the working folder). A file that does not
load is not cached: each attempt reports its errors afresh.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

MAX_ENTRIES = 512
"""Files kept (the least recently used go first): far more than any workspace ships."""

_lock = threading.Lock()
_entries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()


def file_key(path: Path) -> tuple[Any, ...] | None:
    """What identifies a file's current content (None: it cannot be examined, and loading
    it will say why)."""
    try:
        info = path.stat()
        return (path.resolve(), info.st_ino, info.st_mtime_ns, info.st_size)
    except (OSError, RuntimeError):  # RuntimeError: a symbolic link loop, before Python 3.13
        return None


def cached(kind: str, path: Path, display: str, load: Callable[[], T]) -> T:
    """``load()``'s result for the file at ``path`` as it is now, parsed once per process.

    Raises:
        whatever ``load`` raises (nothing is cached then).
    """
    found = file_key(path)
    if found is None:
        return load()
    key = (kind, display, *found)
    with _lock:
        if key in _entries:
            _entries.move_to_end(key)
            return _entries[key]  # type: ignore[no-any-return]
    value = load()
    with _lock:
        _entries[key] = value
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    """Forget every parsed file."""
    with _lock:
        _entries.clear()
