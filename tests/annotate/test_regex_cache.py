"""Large regexes come from the on-disk cache (``notenlp.regex_cache``) equal to ``re.compile``'s, or from
``re.compile`` itself when an entry cannot be used."""

import pickle
import re

import pytest

from notenlp import regex_cache

PHRASES = [f"term{i} phrase" for i in range(120)]
LONG = r"(?m:^(?P<header>" + "|".join(PHRASES) + r"))[ \t]*:|(?P<word>\b[A-Z]{3,}\b)"
TEXT = "TERM7 PHRASE: x\nterm42 phrase: y\nsome ABC text\n  term119 phrase:"


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTENLP_CACHE", str(tmp_path))
    return tmp_path / regex_cache.KIND


@pytest.mark.parametrize("flags", [0, re.IGNORECASE, re.IGNORECASE | re.DOTALL])
def test_a_cached_pattern_equals_re_compile_and_matches_the_same(cache_home, flags):
    built = regex_cache.compile(LONG, flags)
    assert len(list(cache_home.glob("*.pickle"))) == 1
    loaded = regex_cache.compile(LONG, flags)  # from the entry just written
    expected = re.compile(LONG, flags)
    for pattern in (built, loaded):
        assert pattern == expected  # same pattern, flags and compiled code
        assert pattern.flags == expected.flags and pattern.groupindex == expected.groupindex
        assert [(m.span(), m.groupdict()) for m in pattern.finditer(TEXT)] == \
               [(m.span(), m.groupdict()) for m in expected.finditer(TEXT)]


def test_a_second_start_reads_the_entry_instead_of_compiling(cache_home, monkeypatch):
    regex_cache.compile(LONG)

    def no_compiling(pattern, flags):
        raise AssertionError("compiled again")

    monkeypatch.setattr(regex_cache, "compiled_code", no_compiling)
    assert regex_cache.compile(LONG) == re.compile(LONG)


def test_short_patterns_and_other_flags_are_compiled_as_usual(cache_home):
    assert regex_cache.compile(r"\d+", re.IGNORECASE) == re.compile(r"\d+", re.IGNORECASE)
    assert regex_cache.compile(LONG.encode()) == re.compile(LONG.encode())
    assert not cache_home.exists() or not list(cache_home.glob("*.pickle"))
    regex_cache.compile(LONG)
    regex_cache.compile(LONG, re.IGNORECASE)
    assert len(list(cache_home.glob("*.pickle"))) == 2  # the flags are part of the key


def test_an_entry_that_does_not_compile_falls_back_to_re_compile(cache_home):
    regex_cache.compile(LONG)
    (entry,) = cache_home.glob("*.pickle")
    flags, code, groups, groupindex, indexgroup = pickle.loads(entry.read_bytes())
    entry.write_bytes(pickle.dumps((flags, code[: len(code) // 2], groups, groupindex, indexgroup)))  # cut short
    assert regex_cache.compile(LONG) == re.compile(LONG)

