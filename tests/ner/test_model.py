import pycrfsuite

from notenlp.ner.model import NerModel, bio_tags, decode
from notenlp.ner.tokenize import tokenize
from tests.floats import approx_floats


def spans(text, mentions):
    return [(text[m.start:m.end], m.label) for m in mentions]


def test_bio_tags_and_decode_round_trip():
    text = "Given low-dose aspirin for chest pain."
    tokens = tokenize(text)
    mentions = [(6, 22, "DRUG"), (27, 37, "PROBLEM")]
    tags = bio_tags(tokens, mentions)
    assert tags == ["O", "B-DRUG", "I-DRUG", "I-DRUG", "I-DRUG", "O", "B-PROBLEM", "I-PROBLEM", "O"]
    assert [(s, e, label) for s, e, label, _, _ in decode(tokens, tags)] == mentions


def test_tiny_model_tags_unseen_combinations(tiny_model):
    text = "Patient was given warfarin for pneumonia ."
    found = spans(text, tiny_model.predict(text))
    assert ("warfarin", "DRUG") in found and ("pneumonia", "PROBLEM") in found
    text = "She takes lisinopril daily because of atrial fibrillation ."
    assert spans(text, tiny_model.predict(text)) == [("lisinopril", "DRUG"), ("atrial fibrillation", "PROBLEM")]


def test_scores_are_probabilities(tiny_model):
    mentions = tiny_model.predict("History of diabetes , started on insulin .")
    assert mentions and all(0.0 < m.score <= 1.0 for m in mentions)


def test_fast_decoding_matches_crfsuite(tiny_model):
    tagger = pycrfsuite.Tagger()
    tagger.open_inmemory(tiny_model._crf_bytes)
    sentences = [["No", "chest", "pain", "today", ";", "continue", "heparin", "."],
                 ["Unrelated", "words", "here"], ["insulin"]]
    expected = [tagger.tag(tiny_model.crf.extractor.sequence(words)) for words in sentences]
    paths, _ = tiny_model.crf.decode(sentences)
    assert paths == expected


def test_spans_are_tagged_separately_with_document_offsets(tiny_model):
    text = "Patient was given heparin for headache . No hypertension today ; continue metformin ."
    second = text.index("No")
    found = tiny_model.predict(text, [(0, second - 1), (second, len(text))])
    assert spans(text, found) == [("heparin", "DRUG"), ("headache", "PROBLEM"), ("hypertension", "PROBLEM"),
                                  ("metformin", "DRUG")]


def test_save_load_round_trip(tiny_model, tiny_model_path):
    loaded = NerModel.load(tiny_model_path)
    assert loaded.meta == approx_floats(tiny_model.meta)
    text = "History of chest pain , started on aspirin . She takes insulin daily because of diabetes ."
    # spans and labels exactly, scores to rounding (round(score, 6) could still split at a rounding edge)
    assert [(m.start, m.end, m.label, m.score) for m in loaded.predict(text)] == \
           approx_floats([(m.start, m.end, m.label, m.score) for m in tiny_model.predict(text)])


def test_gazetteer_prefers_the_longest_entry():
    from notenlp.ner.features import FeatureExtractor

    extractor = FeatureExtractor({}, {("renal",): "PROBLEM", ("acute", "renal", "failure"): "PROBLEM", ("lasix",): "DRUG"})
    assert extractor.gazetteer_tags(["acute", "renal", "failure", "on", "lasix", "renal"]) == [
        "B-PROBLEM", "I-PROBLEM", "I-PROBLEM", None, "B-DRUG", "B-PROBLEM"]
    assert extractor.gazetteer_tags(["acute", "renal"]) == [None, "B-PROBLEM"]
