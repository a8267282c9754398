from notenlp.doc import Doc
from notenlp.ner.component import ModelNER


def test_shipped_model_tags_drugs_and_problems():
    ner = ModelNER()
    text = ("The patient was started on cisplatin and developed acute renal failure. "
            "Haloperidol was stopped because of neuroleptic malignant syndrome (NMS); NMS resolved.")
    found = {(e.text, e.label) for e in ner(Doc(text=text)).entities}
    assert ("cisplatin", "DRUG") in found
    assert ("Haloperidol", "DRUG") in found
    assert ("acute renal failure", "PROBLEM") in found
    assert ("neuroleptic malignant syndrome", "PROBLEM") in found
    assert ("NMS", "PROBLEM") in found
    assert all(e.source == "model" and 0.0 < e.score <= 1.0 for e in ner(Doc(text=text)).entities)
