from notenlp.doc import Doc, Entity, Span
from notenlp.ner.component import ModelNER

TEXT = "Patient was given heparin for chest pain ."


def entity(text, word, label, source="dictionary"):
    start = text.index(word)
    return Entity(start=start, end=start + len(word), text=word, label=label, source=source, concept_id=42)


def test_adds_model_entities(tiny_model_path):
    doc = ModelNER(model_path=str(tiny_model_path))(Doc(text=TEXT))
    assert [(e.text, e.label, e.source) for e in doc.entities] == [("heparin", "DRUG", "model"),
                                                                   ("chest pain", "PROBLEM", "model")]


def test_longer_model_mention_replaces_a_partial_dictionary_hit(tiny_model_path):
    doc = Doc(text=TEXT, entities=[entity(TEXT, "pain", "PROBLEM")])
    doc = ModelNER(model_path=str(tiny_model_path))(doc)
    problems = [e for e in doc.entities if e.label == "PROBLEM"]
    assert [(e.text, e.source) for e in problems] == [("chest pain", "model")]


def test_existing_entity_wins_a_tie(tiny_model_path):
    doc = Doc(text=TEXT, entities=[entity(TEXT, "chest pain", "PROBLEM"), entity(TEXT, "heparin", "TEST")])
    doc = ModelNER(model_path=str(tiny_model_path))(doc)
    assert [(e.text, e.label, e.concept_id) for e in doc.entities] == [("chest pain", "PROBLEM", 42),
                                                                       ("heparin", "TEST", 42)]


def test_longer_entity_wins_across_labels(tiny_model_path):
    shorter = Doc(text=TEXT, entities=[entity(TEXT, "chest", "TEST")])
    shorter = ModelNER(model_path=str(tiny_model_path))(shorter)
    assert ("chest", "TEST") not in [(e.text, e.label) for e in shorter.entities]
    assert ("chest pain", "PROBLEM") in [(e.text, e.label) for e in shorter.entities]
    longer = Doc(text=TEXT, entities=[entity(TEXT, "heparin for chest", "PROCEDURE")])
    longer = ModelNER(model_path=str(tiny_model_path))(longer)
    assert [(e.text, e.label) for e in longer.entities] == [("heparin for chest", "PROCEDURE")]


def test_sentences_and_label_filter(tiny_model_path):
    text = TEXT + " No diabetes today ; continue insulin ."
    doc = Doc(text=text, sentences=[Span(0, len(TEXT)), Span(len(TEXT) + 1, len(text))])
    doc = ModelNER(model_path=str(tiny_model_path), labels=["DRUG"])(doc)
    assert [(e.text, e.sentence) for e in doc.entities] == [("heparin", 0), ("insulin", 1)]


def test_targets_mode_is_left_alone(tiny_model_path):
    doc = Doc(text=TEXT, targets=[Span(18, 25)])
    assert ModelNER(model_path=str(tiny_model_path))(doc).entities == []
