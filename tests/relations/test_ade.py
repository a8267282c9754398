import pytest

from notenlp.corpora import MISSING_MESSAGE, corpus_path
from notenlp.ner.corpora import read_ade as read_ner_ade, split_by_document
from notenlp.relations.ade import read_ade, split, to_doc

pytestmark = pytest.mark.corpora


@pytest.fixture(scope="module")
def ade_sentences():
    if corpus_path("ade-corpus-v2") is None:
        pytest.skip(MISSING_MESSAGE)
    return read_ade()


def test_reader_turns_document_offsets_into_sentence_offsets(ade_sentences):
    positives = [s for s in ade_sentences if s.pairs]
    assert len(positives) > 1000
    for sentence in positives:
        doc, gold = to_doc(sentence)
        for entity in doc.entities:
            assert doc.text[entity.start:entity.end] == entity.text
        for head_start, head_end, tail_start, tail_end, kind in gold:
            assert kind in {"causes_adverse_event", "has_dose"}
            assert 0 <= head_start < head_end <= len(doc.text) and 0 <= tail_start < tail_end <= len(doc.text)


def test_first_sentence_of_the_file(ade_sentences):
    sentence = next(s for s in ade_sentences if s.pmid == "10030778")
    doc, gold = to_doc(sentence)
    assert doc.text == "Intravenous azithromycin-induced ototoxicity."
    assert gold == [(12, 24, 33, 44, "causes_adverse_event")]
    assert [(e.text, e.label) for e in doc.entities] == [("azithromycin", "DRUG"), ("ototoxicity", "PROBLEM")]


def test_negative_sentences_have_no_mentions_and_split_keeps_pmids_apart(ade_sentences):
    negatives = [s for s in ade_sentences if not s.mentions]
    assert len(negatives) > 10000
    doc, gold = to_doc(negatives[0])
    assert doc.entities == [] and gold == []
    train_sentences, held_out_sentences = split(ade_sentences)
    assert len(train_sentences) + len(held_out_sentences) == len(ade_sentences)
    train = {s.pmid for s in train_sentences}
    held_out = {s.pmid for s in held_out_sentences}
    assert not train & held_out
    assert 0.7 < len(train) / (len(train) + len(held_out)) < 0.9
    # the NER model never trained on a held-out abstract: they are the NER recipe's held-out part
    ner_train, ner_held_out = split_by_document(read_ner_ade(corpus_path("ade-corpus-v2")))
    assert {d.doc_id for d in ner_held_out} == {s.pmid for s in held_out_sentences if s.mentions}
    assert not {d.doc_id for d in ner_train} & held_out
