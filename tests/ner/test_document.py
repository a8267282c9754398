from notenlp.ner.document import Mention, is_abbreviation, propagate


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


def test_is_abbreviation():
    assert is_abbreviation("CHF", "congestive heart failure")
    assert not is_abbreviation("n=12", "patients")
    assert not is_abbreviation("see", "fever")


def test_is_abbreviation_needs_its_letters_in_order_from_a_word_start():
    assert is_abbreviation("5-FU", "5-fluorouracil")
    assert is_abbreviation("PTX", "paclitaxel")
    assert not is_abbreviation("HT", "therapy")  # the H is inside a word
    assert not is_abbreviation("MS", "sclerosis multiple")  # letters out of order


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
