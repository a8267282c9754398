"""The dictionary as a process start reads it (keys decoded on first lookup, indexes from the cache) equals
the artifact read eagerly, row for row, and so do the indexes the matcher and the normalizer derive from it."""

from __future__ import annotations

from notenlp.vocab import text
from notenlp.vocab.dictionary import Dictionary, _read_artifact
from notenlp.vocab.matcher import DictionaryMatcher


def _eager(path: str) -> Dictionary:
    candidates, abbreviations = _read_artifact(path)
    return Dictionary(candidates, abbreviations)  # no fingerprint: nothing cached, every index built here


def test_lazy_lookups_equal_the_eager_dictionary(tmp_path, monkeypatch, tiny_dictionary):
    monkeypatch.setenv("NOTENLP_CACHE", str(tmp_path / "cache"))
    eager = _eager(tiny_dictionary)
    for attempt in ("built", "read from the cache"):
        lazy = Dictionary.load(tiny_dictionary)
        assert lazy.fingerprint is not None, attempt
        assert list(lazy.candidates) == list(eager.candidates) and len(lazy.candidates) == len(eager.candidates)
        assert lazy.candidates.get("no such key") is None and "no such key" not in lazy.candidates
        for key, found in eager.candidates.items():
            assert key in lazy.candidates
            assert lazy.candidates.get(key) == found and lazy.candidates[key] == found, (attempt, key)
        assert lazy.abbreviations == eager.abbreviations
        assert lazy.key_words() == eager.key_words() == {w for key in eager.candidates for w in key.split(" ")}
        for key in eager.candidates:
            bag = text.bag(key.split(" "))
            assert lazy.by_bag(bag) == eager.by_bag(bag), (attempt, key)
        for query in ("hypertension", "metformin tablet", "atrial fibrilation", "closed hip fracture"):
            assert lazy.trigram_search(query, None) == eager.trigram_search(query, None), query
            assert lazy.trigram_search(query, {"Drug"}, min_dice=0.3) == eager.trigram_search(query, {"Drug"},
                                                                                             min_dice=0.3)
        for word in ("hypertensoin", "fibrilation", "metformine", "pneumonia", "zzzzzzz"):
            assert lazy.correct_token(word) == eager.correct_token(word), word
    assert any((tmp_path / "cache" / "vocab-rows").iterdir()) and any((tmp_path / "cache" / "vocab-index").iterdir())


def test_matcher_indexes_from_the_cache_equal_the_built_ones(tmp_path, monkeypatch, tiny_dictionary):
    monkeypatch.setenv("NOTENLP_CACHE", str(tmp_path / "cache"))
    built = DictionaryMatcher(dictionary=tiny_dictionary)
    built_from_eager = DictionaryMatcher.__new__(DictionaryMatcher)
    built_from_eager.lookup = type(built.lookup)(_eager(tiny_dictionary), tuple(built.lookup.domains))
    keys, max_tokens, bigrams = built_from_eager._match_keys()
    for matcher in (built, DictionaryMatcher(dictionary=tiny_dictionary)):  # the second reads the cache
        assert matcher._keys == keys and matcher._max_tokens == max_tokens and matcher._bigrams == bigrams
        assert matcher._known_tokens == {w for key in built.lookup.dictionary.candidates for w in key.split(" ")}
