"""Where the public gold corpora live: ``$NOTENLP_CORPORA`` or ``../shared/corpora`` beside the repo."""

from __future__ import annotations

import os
from pathlib import Path

from notenlp.resources import source_root


def corpora_dir() -> Path | None:
    """The corpora folder, or None when it is absent (tests then skip with a clear message)."""
    root = source_root()
    candidates = [os.environ.get("NOTENLP_CORPORA"), root and root.parent / "shared" / "corpora",
                  Path.cwd().parent / "shared" / "corpora"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate).resolve()
    return None


def corpus_path(*parts: str) -> Path | None:
    root = corpora_dir()
    if root is None:
        return None
    path = root.joinpath(*parts)
    return path if path.exists() else None


MISSING_MESSAGE = (
    "public gold corpora not found: set NOTENLP_CORPORA or place them at ../shared/corpora beside the repo"
)
