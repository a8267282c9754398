"""A model loaded from its zip keys its cached weight tables by the file's hash and unzips the CRFsuite part only
when it needs the bytes (to build the tables, to save, or to hand them to CRFsuite)."""

import zipfile

import numpy as np
import pytest

from notenlp.ner.model import NerModel

from .test_crf_fast_path import SENTENCES


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTENLP_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_loaded_model_tags_as_the_trained_one_from_cached_tables(tiny_model, cache_home, tmp_path, monkeypatch):
    path = tiny_model.save(tmp_path / "model.zip")
    first = NerModel.load(path)  # builds the tables (reads the CRFsuite bytes)
    assert len(list((cache_home / "ner").glob("crf-tables-*.pickle"))) == 1

    def no_build(*_args, **_kwargs):
        raise AssertionError("the tables should come from the cache")

    monkeypatch.setattr("notenlp.ner.crf.CompiledCRF._build_tables", no_build)
    second = NerModel.load(path)
    assert callable(second._crf_source)  # not unzipped: nothing needed the bytes
    assert np.array_equal(second.crf.weights, first.crf.weights)
    assert second.crf.decode(SENTENCES) == tiny_model.crf.decode(SENTENCES)
    with zipfile.ZipFile(path) as archive:
        assert second._crf_bytes == archive.read("model.crfsuite") == tiny_model._crf_bytes


def test_another_domain_of_a_loaded_model_keeps_its_file_key(tiny_model, cache_home, tmp_path):
    path = tiny_model.save(tmp_path / "model.zip")
    loaded = NerModel.load(path)
    shared = loaded.with_domain("")
    assert shared._file_key == loaded._file_key
    assert shared.crf.decode(SENTENCES) == NerModel(tiny_model.meta, tiny_model._crf_bytes, "").crf.decode(SENTENCES)


def test_a_model_file_replaced_after_loading_is_not_read_under_the_old_key(tiny_model, cache_home, tmp_path):
    path = tiny_model.save(tmp_path / "model.zip")
    loaded = NerModel.load(path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("note.txt", "another file now")
    with pytest.raises(RuntimeError, match="changed after it was loaded"):
        loaded._crf_bytes
