"""The CRF weight tables read back from the on-disk cache are the ones built from the CRFsuite model."""

import logging

import numpy as np
import pytest

from notenlp import cache
from notenlp.ner.model import NerModel

from .test_crf_fast_path import SENTENCES


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTENLP_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_tables_from_the_cache_equal_the_built_ones(tiny_model, cache_home, monkeypatch):
    built = NerModel(tiny_model.meta, tiny_model._crf_bytes)
    entries = list((cache_home / "ner").glob("crf-tables-*.pickle"))
    assert len(entries) == 1

    def no_build(*_args, **_kwargs):
        raise AssertionError("the tables should come from the cache")

    monkeypatch.setattr("notenlp.ner.crf.CompiledCRF._build_tables", no_build)
    cached = NerModel(tiny_model.meta, tiny_model._crf_bytes)
    assert cached.crf.tags == built.crf.tags
    assert cached.crf.attribute_row == built.crf.attribute_row
    assert np.array_equal(cached.crf.weights, built.crf.weights)
    assert np.array_equal(cached.crf.transitions, built.crf.transitions)
    assert np.array_equal(cached.crf._pair_codes, built.crf._pair_codes)
    paths, marginals = cached.crf.decode(SENTENCES)
    expected_paths, expected_marginals = built.crf.decode(SENTENCES)
    assert paths == expected_paths
    for got, want in zip(marginals, expected_marginals):
        assert got == pytest.approx(want, abs=1e-12)


def test_another_domain_is_another_entry(tiny_model, cache_home):
    NerModel(tiny_model.meta, tiny_model._crf_bytes, domain="")
    NerModel(tiny_model.meta, tiny_model._crf_bytes)
    domains = tiny_model.meta.get("domains") or []
    expected = 2 if (tiny_model.meta.get("default_domain") or "") != "" else 1
    assert len(list((cache_home / "ner").glob("crf-tables-*.pickle"))) == expected, domains


def test_an_unreadable_entry_is_rebuilt(cache_home, caplog):
    calls = []

    def build():
        calls.append(1)
        return {"value": len(calls)}

    assert cache.cached("test", "k", build) == {"value": 1}
    assert cache.cached("test", "k", build) == {"value": 1} and len(calls) == 1
    (cache_home / "test" / "k.pickle").write_bytes(b"not a pickle")
    with caplog.at_level(logging.WARNING, logger="notenlp.cache"):
        assert cache.cached("test", "k", build) == {"value": 2}
    assert "unreadable" in caplog.text
    assert cache.cached("test", "k", build) == {"value": 2} and len(calls) == 2


def test_old_entries_are_pruned(cache_home, monkeypatch):
    monkeypatch.setattr(cache, "KEEP_ENTRIES", 3)
    for k in range(5):
        cache.cached("test", f"k{k}", lambda k=k: k)
    assert len(list((cache_home / "test").glob("*.pickle"))) == 3
    assert cache.cached("test", "k4", lambda: "rebuilt") == 4
