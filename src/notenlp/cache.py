"""On-disk cache of artifacts derived from shipped or compiled files, so a process start does not redo them.

Everything here is rebuilt from its inputs when missing or unreadable: the cache only saves time. It lives
under ``$NOTENLP_CACHE`` (default ``~/.cache/notenlp``); keys are content hashes of the inputs, so a changed
model, vocabulary or code gets a new entry. Entries hold model weights and vocabulary data, never note text.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
KEEP_ENTRIES = 16  # per kind: training runs build many models, and each would otherwise leave an entry for good


def cache_dir(*parts: str) -> Path:
    return Path(os.environ.get("NOTENLP_CACHE") or Path.home() / ".cache" / "notenlp").joinpath(*parts)


def content_key(*parts: bytes | str) -> str:
    """Hash of the given contents (bytes, or text); the order counts."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()[:20]


def source_bytes(*modules: str) -> bytes:
    """The source of the named modules' files: part of a key, so a code change rebuilds what that code derives."""
    import importlib.util

    blob = b""
    for name in modules:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        blob += Path(origin).read_bytes() if origin and os.path.isfile(origin) else name.encode()
    return blob


def file_state(path: str | Path) -> str:
    """A file as a key part without reading it: its resolved path, size and modification time."""
    resolved = Path(path).resolve()
    state = resolved.stat()
    return f"{resolved}|{state.st_size}|{state.st_mtime_ns}"


def cached(kind: str, key: str, build: Callable[[], T], *, keep: int | None = None) -> T:
    """``build()``'s value, read from the cache entry ``kind/key`` when present, else built and stored.

    The entry is written atomically (parallel workers never read half a file); an unwritable cache only
    logs a warning. ``keep``: how many entries of this kind are kept, the most recently written
    (default ``KEEP_ENTRIES``).
    """
    path = cache_dir(kind) / f"{key}.pickle"
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except FileNotFoundError:
        pass
    except Exception as exc:  # a truncated or foreign file: rebuild it
        log.warning("cache entry %s/%s unreadable (%s); rebuilding it", kind, path.name, type(exc).__name__)
    value = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.stem}-", suffix=".partial",
                                         delete=False) as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, path)
        _prune(path.parent, KEEP_ENTRIES if keep is None else keep)
    except OSError as exc:
        log.warning("could not write cache entry %s/%s (%s)", kind, path.name, exc.strerror or type(exc).__name__)
    return value


def _prune(folder: Path, keep: int) -> None:
    """Drop all but the ``keep`` most recently written entries of one kind."""
    written = []
    for entry in folder.glob("*.pickle"):
        try:
            written.append((entry.stat().st_mtime_ns, entry))
        except OSError:  # another process pruned it meanwhile
            continue
    for _, old in sorted(written, reverse=True)[keep:]:
        old.unlink(missing_ok=True)
