import pytest

from notenlp.doc import Doc, Span


def flags_of(pipeline, text: str, target: str, occurrence: int = 0) -> dict[str, bool]:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(target, start + 1)
    doc = pipeline(Doc(text=text, targets=[Span(start, start + len(target))]))
    (entity,) = doc.entities
    return entity.assertion()


def set_flags(flags: dict[str, bool]) -> set[str]:
    return {name for name, value in flags.items() if value}


@pytest.mark.parametrize(("text", "target", "expected"), [
    ("Patient denies chest pain.", "chest pain", {"negated"}),
    ("No evidence of pneumonia.", "pneumonia", {"negated"}),
    ("Negative for fever, chills, nausea or vomiting.", "vomiting", {"negated"}),
    ("Pneumothorax was ruled out.", "Pneumothorax", {"negated"}),                       # backward trigger
    ("Blood cultures were negative.", "Blood cultures", {"negated"}),
    ("In no acute distress.", "acute distress", {"negated"}),                           # trigger shares a word
    ("Possible pneumonia in the right lower lobe.", "pneumonia", {"possible"}),
    ("Rule out myocardial infarction.", "myocardial infarction", {"possible"}),
    ("Return to the ED if chest pain recurs.", "chest pain", {"hypothetical"}),
    ("Chest pain with exertion.", "Chest pain", {"conditional"}),
    ("Rash when exposed to penicillin.", "Rash", {"conditional"}),
    ("She has a history of asthma.", "asthma", {"historical"}),
    ("He is s/p appendectomy.", "appendectomy", {"historical"}),
    ("Mother with breast cancer.", "breast cancer", {"family"}),
    ("Breast cancer in her sister.", "Breast cancer", {"family"}),
    ("Patient reports chest pain.", "chest pain", set()),
])
def test_triggers(annotate_pipeline, text, target, expected):
    assert set_flags(flags_of(annotate_pipeline, text, target)) == expected


@pytest.mark.parametrize(("text", "target"), [
    ("No change in the size of the effusion.", "effusion"),          # pseudo-trigger "no change"
    ("Not only fever but also cough.", "fever"),                     # pseudo-trigger "not only"
    ("Gram negative rods in the sputum culture.", "rods"),           # pseudo-trigger "gram negative"
    ("History of present illness: chest pain for 2 days.", "chest pain"),   # pseudo historical
    ("A two-day history of cough.", "cough"),                         # recent, not historical
])
def test_pseudo_triggers_modify_nothing(annotate_pipeline, text, target):
    assert set_flags(flags_of(annotate_pipeline, text, target)) == set()


def test_terminator_ends_negation_scope(annotate_pipeline):
    text = "No fever but reports cough."
    assert flags_of(annotate_pipeline, text, "fever")["negated"]
    assert not flags_of(annotate_pipeline, text, "cough")["negated"]


def test_terminator_ends_historical_scope(annotate_pipeline):
    text = "A man with a history of diabetes who presents with chest pain."
    assert flags_of(annotate_pipeline, text, "diabetes")["historical"]
    assert not flags_of(annotate_pipeline, text, "chest pain")["historical"]


def test_scope_stops_at_sentence_end(annotate_pipeline):
    text = "Denies fever. Cough is present."
    assert not flags_of(annotate_pipeline, text, "Cough")["negated"]


def test_forward_window_is_bounded(annotate_pipeline):
    text = "No fever, and then on the following day the patient developed a new productive cough at home."
    assert not flags_of(annotate_pipeline, text, "productive cough")["negated"]


def test_section_defaults_and_section_attributes(annotate_pipeline):
    text = "PAST MEDICAL HISTORY: Asthma.\nFAMILY HISTORY: Diabetes.\nHPI: Cough."
    doc = annotate_pipeline(Doc(text=text, targets=[Span(22, 28), Span(46, 54), Span(61, 66)]))
    asthma, diabetes, cough = doc.entities
    assert (asthma.section, asthma.historical, asthma.family) == ("past_medical_history", True, False)
    assert (diabetes.section, diabetes.family, diabetes.historical) == ("family_history", True, False)
    assert (cough.section, cough.historical, cough.family) == ("history_of_present_illness", False, False)


@pytest.mark.parametrize(("text", "target", "historical"), [
    ("65 yo M with diabetes and gout who presents with chest pain.", "gout", True),        # background before "who presents"
    ("65 yo M with diabetes and gout who presents with chest pain.", "chest pain", False),
    ("72-year-old woman with COPD, now with fever.", "COPD", True),
    ("72-year-old woman with COPD, now with fever.", "fever", False),
    ("# Asthma: history only, no active issues.", "Asthma", True),
    ("# cough: albuterol prn. # asthma: history only.", "cough", False),                  # "#" starts a new item
    ("She had a cholecystectomy in 2009.", "cholecystectomy", True),
    ("In March 2009 she underwent CABG complicated by mediastinitis.", "mediastinitis", True),
    ("Stable pleural effusion since 2019.", "pleural effusion", False),                   # still present
    ("She was recently discharged after treatment for pneumonia.", "pneumonia", True),
    ("He has multiple medical problems including COPD and gout.", "gout", True),
    ("Social history: He smokes cigarettes daily.", "smokes cigarettes", True),           # habits are longstanding
    ("Denies alcohol use.", "alcohol use", True),
    ("No known drug allergies.", "drug allergies", True),
    ("Admitted for alcohol withdrawal.", "alcohol withdrawal", False),                     # pseudo: an acute problem
    ("Menstrual History: post-menopausal.", "post-menopausal", True),
])
def test_temporality_cues(annotate_pipeline, text, target, historical):
    assert flags_of(annotate_pipeline, text, target)["historical"] is historical


def test_history_header_ends_negation_scope(annotate_pipeline):
    text = "Last period: not entered  Menstrual History: post-menopausal"
    flags = flags_of(annotate_pipeline, text, "post-menopausal")
    assert (flags["historical"], flags["negated"]) == (True, False)


def test_section_defaults_skip_drugs():
    from notenlp.annotate.context import ConText
    from notenlp.annotate.sections import SectionDetector
    from notenlp.doc import Entity

    text = "PAST MEDICAL HISTORY: Asthma, on albuterol."
    doc = SectionDetector()(Doc(text=text))
    doc.entities = [Entity(start=22, end=28, text="Asthma", label="PROBLEM"),
                    Entity(start=33, end=42, text="albuterol", label="DRUG")]
    asthma, albuterol = ConText()(doc).entities
    assert (asthma.historical, albuterol.historical) == (True, False)
    assert albuterol.section == "past_medical_history"


@pytest.mark.parametrize(("text", "target", "expected"), [
    ("ALCOHOL: two glasses of wine per day.", "ALCOHOL", {"historical"}),        # a habit that is also a header
    ("Denies tobacco, alcohol or drugs.", "drugs", {"negated", "historical"}),
    ("She is admitted frequently for abdominal pain.", "abdominal pain", {"historical"}),
    ("Multiple hospitalizations for COPD exacerbation.", "COPD exacerbation", {"historical"}),
    ("History of gastric bypass, with weight loss and vomiting.", "vomiting", set()),   # ", with" ends the history
    ("History of gastric bypass, with weight loss and vomiting.", "gastric bypass", {"historical"}),
])
def test_historical_cues(annotate_pipeline, text, target, expected):
    assert set_flags(flags_of(annotate_pipeline, text, target)) == expected


def test_target_labels_reach_the_entities(annotate_pipeline):
    text = "Aspirin 81 mg daily. Chest x-ray clear."
    doc = Doc(text=text, targets=[Span(0, 7), Span(21, 32)])
    doc.user_data["target_labels"] = ["DRUG", "TEST"]
    doc = annotate_pipeline(doc)
    assert [(e.text, e.label) for e in doc.entities] == [("Aspirin", "DRUG"), ("Chest x-ray", "TEST")]


def labelled_flags(pipeline, text: str, targets: list[tuple[str, str]]) -> list[set[str]]:
    spans = [Span(text.index(t), text.index(t) + len(t)) for t, _ in targets]
    doc = Doc(text=text, targets=spans)
    doc.user_data["target_labels"] = [label for _, label in targets]
    return [set_flags(e.assertion()) for e in pipeline(doc).entities]


@pytest.mark.parametrize(("text", "targets", "expected"), [
    ("Possible CT chest in AM.", [("CT chest", "TEST")], [{"hypothetical"}]),
    ("Possible pneumonia.", [("pneumonia", "PROBLEM")], [{"possible"}]),
    ("He will need cholecystectomy as an outpatient.", [("cholecystectomy", "PROCEDURE")], [{"hypothetical"}]),
    ("Troponin negative.", [("Troponin", "TEST")], [set()]),                       # a result, not an absent test
    ("CT head was negative for fracture.", [("CT head", "TEST"), ("fracture", "PROBLEM")], [set(), {"negated"}]),
    ("# asthma: possible, monitor glucose.", [("asthma", "PROBLEM"), ("glucose", "TEST")], [{"possible"}, set()]),
    ("Possible GERD, started on empiric omeprazole.", [("GERD", "PROBLEM"), ("omeprazole", "DRUG")],
     [{"possible"}, set()]),
    ("Ibuprofen 200 mg PO q6h as needed.", [("Ibuprofen", "DRUG")], [set()]),         # a PRN order exists
    ("Pt reports chest pain when ambulating.", [("chest pain", "PROBLEM")], [{"conditional"}]),
    ("She gets wheezing whenever she lies flat.", [("wheezing", "PROBLEM")], [{"conditional"}]),
    ("Continue to monitor for fever.", [("fever", "PROBLEM")], [{"hypothetical"}]),
    ("ROS: (+) nausea, (-) chills.", [("nausea", "PROBLEM"), ("chills", "PROBLEM")], [set(), {"negated"}]),
    ("No loss of consciousness s/p knee replacement.", [("knee replacement", "PROCEDURE")], [{"historical"}]),
])
def test_label_aware_rules(annotate_pipeline, text, targets, expected):
    assert labelled_flags(annotate_pipeline, text, targets) == expected
