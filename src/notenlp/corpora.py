"""Where the public gold corpora live: ``$NOTENLP_CORPORA`` or ``../shared/corpora`` beside the repo."""

from __future__ import annotations

import os
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[2]


def corpora_dir() -> Path | None:
    """The corpora folder, or None when it is absent (tests then skip with a clear message)."""
    candidates = [os.environ.get("NOTENLP_CORPORA"), _REPO_ROOT.parent / "shared" / "corpora",
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
