"""The de-identifier's lexicons come from the on-disk cache, keyed by every file they are built from."""

import shutil
import sys

import pytest

from notenlp.deid import resources
from notenlp.resources import RESOURCE_DIR


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTENLP_CACHE", str(tmp_path / "cache"))
    resources.load_lexicons.cache_clear()
    yield tmp_path / "cache" / "deid-lexicons"
    resources.load_lexicons.cache_clear()


def test_the_cached_lexicons_equal_a_fresh_build(cache_home):
    first = resources.load_lexicons()
    assert len(list(cache_home.glob("*.pickle"))) == 1
    resources.load_lexicons.cache_clear()
    assert resources.load_lexicons() == first == resources.build_lexicons()


def test_every_file_a_build_reads_is_part_of_the_key():
    """A new input file outside ``lexicon_inputs`` would leave stale lexicons in the cache when it changes."""
    opened: list[str] = []
    recording = [True]

    def record(event, args):
        if recording[0] and event == "open" and isinstance(args[0], str):
            opened.append(args[0])

    sys.addaudithook(record)  # audit hooks cannot be removed: this one stops recording below
    try:
        resources.build_lexicons()
    finally:
        recording[0] = False
    read = {path for path in opened if path.startswith(str(RESOURCE_DIR))}
    assert len(read) >= 10
    assert read <= {str(path) for path in resources.lexicon_inputs()}


def test_a_changed_lexicon_file_is_read_again(cache_home, tmp_path):
    directory = tmp_path / "deid"
    shutil.copytree(RESOURCE_DIR / "deid", directory)
    before = resources.load_lexicons(str(directory))
    assert "zyxwvutsrq" not in before.first_names
    names = directory / "lexicons" / "first_names.txt"
    names.write_text(names.read_text(encoding="utf-8") + "zyxwvutsrq\n", encoding="utf-8")
    resources.load_lexicons.cache_clear()
    after = resources.load_lexicons(str(directory))
    assert "zyxwvutsrq" in after.first_names
    assert len(list(cache_home.glob("*.pickle"))) == 2
