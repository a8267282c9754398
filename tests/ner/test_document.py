from notenlp.ner.document import Mention, definitions, long_form_start, propagate


def test_abbreviation_takes_the_long_form_label_everywhere():
    text = "Nitroglycerin (NTG) was given. NTG caused headache; NTG-induced headache (NTGH) resolved."
    mentions = [Mention(0, 13, "DRUG", 0.9), Mention(42, 50, "PROBLEM", 0.8)]
    found = [(text[m.start:m.end], m.label) for m in propagate(text, mentions)]
    assert found == [("Nitroglycerin", "DRUG"), ("NTG", "DRUG"), ("NTG", "DRUG"), ("headache", "PROBLEM"),
                     ("NTG", "DRUG")]


def test_abbreviation_tagged_with_another_label_is_relabelled():
    text = "Malignant hyperthermia (MH) is rare. MH occurred."
    mentions = [Mention(0, 22, "PROBLEM", 0.9), Mention(37, 39, "DRUG", 0.6)]
    found = [(text[m.start:m.end], m.label) for m in propagate(text, mentions)]
    assert found == [("Malignant hyperthermia", "PROBLEM"), ("MH", "PROBLEM"), ("MH", "PROBLEM")]


def test_repeated_mentions_only_when_asked_and_never_inside_words():
    text = "Fever today. No fever yesterday, fevers before; fever."
    mentions = [Mention(0, 5, "PROBLEM", 0.9), Mention(16, 21, "PROBLEM", 0.9)]
    assert len(propagate(text, mentions)) == 2
    found = [(m.start, text[m.start:m.end]) for m in propagate(text, mentions, repeat_mentions=True)]
    assert found == [(0, "Fever"), (16, "fever"), (48, "fever")]


def is_abbreviation(short: str, long: str) -> bool:
    return long_form_start(long, len(long), short) == 0


def test_is_abbreviation():
    assert is_abbreviation("CHF", "congestive heart failure")
    assert not is_abbreviation("n=12", "patients")
    assert not is_abbreviation("see", "fever")


def test_is_abbreviation_needs_its_letters_in_order_from_a_word_start():
    assert is_abbreviation("5-FU", "5-fluorouracil")
    assert is_abbreviation("PTX", "paclitaxel")
    assert not is_abbreviation("HT", "therapy")  # the H is inside a word
    assert not is_abbreviation("MS", "sclerosis multiple")  # letters out of order


def test_definitions_find_the_shortest_long_form_within_the_clause():
    text = "Patients on low-molecular-weight heparin (LMWH) and with diabetes; renal failure (RF: creatinine > 2)."
    found = [(text[start:end], short) for start, end, short in definitions(text)]
    assert found == [("low-molecular-weight heparin", "LMWH"), ("renal failure", "RF")]


def test_a_definition_grows_its_mention_to_the_long_form_unless_the_rest_is_a_cause():
    text = "Low-molecular-weight heparin (LMWH) caused ribavirin-induced hemolytic anemia (RIHA). LMWH and RIHA."
    mentions = [Mention(21, 28, "DRUG", 0.9), Mention(61, 77, "PROBLEM", 0.8)]
    found = [(text[m.start:m.end], m.label) for m in propagate(text, mentions)]
    assert found == [("Low-molecular-weight heparin", "DRUG"), ("LMWH", "DRUG"), ("hemolytic anemia", "PROBLEM"),
                     ("RIHA", "PROBLEM"), ("LMWH", "DRUG"), ("RIHA", "PROBLEM")]


def test_an_abbreviation_of_an_untagged_long_form_is_no_mention():
    text = "Serum parathyroid hormone (PTH) fell. PTH and hypercalcemia (HC) were seen; PTH rose."
    mentions = [Mention(27, 30, "PROBLEM", 0.6), Mention(38, 41, "PROBLEM", 0.6), Mention(46, 59, "PROBLEM", 0.9)]
    found = [(text[m.start:m.end], m.label) for m in propagate(text, mentions, repeat_mentions=True)]
    assert found == [("hypercalcemia", "PROBLEM"), ("HC", "PROBLEM")]


def test_a_string_tagged_at_too_few_of_its_occurrences_is_not_copied():
    text = "TD group. TD group. TD was seen. Fever and fever."
    mentions = [Mention(20, 22, "PROBLEM", 0.6), Mention(33, 38, "PROBLEM", 0.9)]
    found = [(m.start, text[m.start:m.end]) for m in propagate(text, mentions, repeat_mentions=True, min_share=0.5)]
    assert found == [(20, "TD"), (33, "Fever")]
    found = [(m.start, text[m.start:m.end]) for m in propagate(text, mentions, repeat_mentions=True, min_share=0.0)]
    assert found == [(0, "TD"), (10, "TD"), (20, "TD"), (33, "Fever")]


def test_a_repeated_string_takes_the_label_most_of_its_mentions_have():
    text = "lithium, lithium and lithium."
    mentions = [Mention(0, 7, "DRUG", 0.9), Mention(9, 16, "DRUG", 0.8), Mention(21, 28, "PROBLEM", 0.5)]
    assert [m.label for m in propagate(text, mentions, repeat_mentions=True)] == ["DRUG", "DRUG", "DRUG"]
