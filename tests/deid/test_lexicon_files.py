"""Lexicons shipped as files in place of a package import stay equal to their source."""

from notenlp.deid.resources import load_lexicons


def test_stop_words_file_is_spacys_english_stop_words():
    from spacy.lang.en.stop_words import STOP_WORDS

    assert load_lexicons().stop_words == frozenset(word.lower() for word in STOP_WORDS)
