"""Data files the package ships, found through ``importlib.resources`` wherever notenlp is installed.

* ``resources/``: clinical knowledge (rules, lexicons, demo vocabulary, pipeline configs), inside the package;
* ``sql/``, ``expectations/`` and ``models/`` (training recipes) stay at the repository's top level, where
  they are edited; the wheel build (``setup.py``) copies them into the package as ``notenlp/_data/<name>``.
  ``data_dir`` finds them there in an installed notenlp, and at the top level of a source checkout
  (an editable install), so every caller names the folder and never walks up from its own file.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

# Top-level folders of the repository that the wheel carries as notenlp/_data/<name> (setup.py reads this).
PACKAGED_FOLDERS = ("sql", "expectations", "models")
PACKAGED_DATA = "_data"
RESOURCE_DIR = Path(str(files(__name__)))


def source_root() -> Path | None:
    """The repository root when notenlp runs from a source checkout (src/ layout), else None."""
    root = Path(str(files("notenlp"))).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() and (root / "src" / "notenlp").is_dir() else None


def data_dir(name: str) -> Path:
    """``sql``, ``expectations`` or ``models``: the copy inside the installed package, else the checkout's."""
    if name not in PACKAGED_FOLDERS:
        raise ValueError(f"{name!r} is not one of the packaged folders {PACKAGED_FOLDERS}")
    packaged = Path(str(files("notenlp"))) / PACKAGED_DATA / name
    if packaged.is_dir():
        return packaged
    root = source_root()
    if root is not None and (root / name).is_dir():
        return root / name
    raise FileNotFoundError(f"notenlp's {name}/ folder is missing: neither {packaged} (installed package) "
                            "nor a source checkout's top-level folder exists; reinstall notenlp")


def resource_path(*parts: str) -> Path:
    """Path of a shipped resource; absolute paths pass through unchanged."""
    if parts and Path(parts[-1]).is_absolute():
        return Path(parts[-1])
    return RESOURCE_DIR.joinpath(*parts)


def file_or_resource(path: str | Path) -> Path:
    """``path`` itself when it exists; otherwise it names a shipped resource ("ner/ner_crf.zip")."""
    given = Path(path)
    return given if given.exists() else resource_path(*given.parts)
