"""Drug and qualifier cases of the normalizer: product names, packs, combinations, form words, brands."""

import pytest

from notenlp.doc import Doc
from notenlp.vocab import drugs
from notenlp.vocab.matcher import DictionaryMatcher
from notenlp.vocab.normalizer import Normalizer
from tests.floats import approx_floats


@pytest.fixture(scope="module")
def normalizer(tiny_dictionary):
    return Normalizer(dictionary=tiny_dictionary)


def concept(normalizer, mention, label="DRUG"):
    resolved = normalizer.resolve(mention, label)
    return resolved.candidate.concept_id if resolved else None


def test_product_written_in_full_is_that_product(normalizer):
    assert concept(normalizer, "metformin hydrochloride 850 MG Oral Tablet") == 1503327
    assert concept(normalizer, "metformin hydrochloride 500 MG Oral Tablet") == 1503328


def test_ingredient_alone_stays_the_ingredient(normalizer):
    assert concept(normalizer, "metformin") == 1503297


def test_hyphenated_combination_reaches_pack(normalizer):
    assert concept(normalizer, "ethinyl estradiol-norgestimate") == 19128022
    assert concept(normalizer, "norgestimate/ethinyl estradiol") == 19128022


def test_form_word_in_shorthand_picks_the_product(normalizer):
    assert concept(normalizer, "levonorgestrel IUD") == 19132304
    assert concept(normalizer, "levonorgestrel implant") == 43012754


def test_brand_narrows_products_to_the_brand(normalizer):
    assert concept(normalizer, "Mirena") == 19132304


def test_location_qualifiers_around_inner_term(normalizer):
    assert concept(normalizer, "right lower lobe pneumonia", "PROBLEM") == 255848
    assert concept(normalizer, "pneumonia with unexplained weird features", "PROBLEM") is None


def test_pack_ingredient_keys():
    keys, form = drugs.pack_ingredient_keys(
        "{24 (drospirenone 3 MG / ethinyl estradiol 0.02 MG Oral Tablet) / 4 (inert ingredients 1 MG Oral Tablet) } "
        "Pack [Yaz 28 Day]")
    assert keys == ["drospirenone + ethinyl estradiol"] and form == "oral tablet"
    keys, _ = drugs.pack_ingredient_keys(
        "{21 (ethinyl estradiol 0.02 MG / norethindrone acetate 1 MG Oral Tablet) / 7 (ferrous fumarate 75 MG "
        "Oral Tablet) } Pack [Loestrin Fe]")
    assert keys == ["ethinyl estradiol + ferrous fumarate + norethindrone", "ethinyl estradiol + norethindrone"]
    assert drugs.pack_ingredient_keys("metformin hydrochloride 500 MG Oral Tablet") == ([], "")


def test_spelling_correction_index(tiny_dictionary):
    dictionary = DictionaryMatcher(dictionary=tiny_dictionary).lookup.dictionary
    assert dictionary.correct_token("pnuemonia") == ("pneumonia", 1)
    assert dictionary.correct_token("hypertenshun") is None or dictionary.correct_token("hypertenshun")[1] <= 2
    assert dictionary.correct_token("zzzzzzzz") is None


def test_matcher_uses_form_written_after_drug(tiny_dictionary):
    # The form is its own entity (FORM "IUD"); it still picks the drug's product.
    doc = DictionaryMatcher(dictionary=tiny_dictionary)(Doc(text="Has a levonorgestrel IUD in place."))
    assert [(e.text, e.concept_id) for e in doc.entities] == [("levonorgestrel", 19132304)]


def _matched(tiny_dictionary, note):
    doc = DictionaryMatcher(dictionary=tiny_dictionary)(Doc(text=note))
    return [(e.text, e.label, e.concept_id) for e in doc.entities]


def test_matcher_takes_a_written_combination_whole(tiny_dictionary):
    assert _matched(tiny_dictionary, "Takes ethinyl estradiol-norgestimate daily.") == \
        [("ethinyl estradiol-norgestimate", "DRUG", 19128022)]
    assert _matched(tiny_dictionary, "Takes norgestimate / ethinyl estradiol daily.") == \
        [("norgestimate / ethinyl estradiol", "DRUG", 19128022)]
    assert _matched(tiny_dictionary, "Takes ethinyl estradiol and norgestimate.") == \
        [("ethinyl estradiol and norgestimate", "DRUG", 19128022)]


def test_combination_missing_from_the_vocabulary_takes_the_first_drug(tiny_dictionary):
    assert _matched(tiny_dictionary, "On metformin/morphine.") == [("metformin/morphine", "DRUG", 1503297)]
    # Two drugs listed with "and" are two drugs unless the vocabulary has them as one product.
    assert _matched(tiny_dictionary, "On metformin and morphine.") == \
        [("metformin", "DRUG", 1503297), ("morphine", "DRUG", 1110410)]


def test_salt_after_a_drug_is_part_of_the_drug(tiny_dictionary):
    assert _matched(tiny_dictionary, "metformin hydrochloride 850 mg tablet") == \
        [("metformin hydrochloride", "DRUG", 1503327)]
    assert _matched(tiny_dictionary, "Metformin HCl 500 mg PO") == [("Metformin HCl", "DRUG", 1503328)]


def test_trigram_search_min_dice_keeps_the_unfiltered_order(tiny_dictionary):
    dictionary = DictionaryMatcher(dictionary=tiny_dictionary).lookup.dictionary
    for query in ("pneumonia", "pnuemonia", "atrial fibrilation", "hemoglobin blood", "metformn", "xq"):
        for allowed in (None, {"Condition"}, {"Drug", "Measurement"}):
            full = [hit for hit in dictionary.trigram_search(query, allowed, limit=1000) if hit[0] >= 0.5][:20]
            # the same keys in the same order; the Dice values to rounding
            assert dictionary.trigram_search(query, allowed, min_dice=0.5) == approx_floats(full)
    assert dictionary.trigram_search("atrial fibrilation", {"Condition"}, min_dice=0.5)[0][1] == "atrial fibrillation"


def _doc_drugs(normalizer, text):
    from notenlp.doc import Entity

    entities = [Entity(i, i + len("metformin"), text[i:i + len("metformin")], "DRUG")
                for i in range(len(text)) if text.lower().startswith("metformin", i)]
    return [e.concept_id for e in normalizer(Doc(text=text, note_id="n", entities=entities)).entities]


def test_drug_named_alone_takes_the_product_the_note_states(normalizer):
    assert _doc_drugs(normalizer, "Metformin 850 mg tablet daily.\nMetformin was held for the CT.") == \
        [1503327, 1503327]
    assert _doc_drugs(normalizer, "Metformin was held. Restart metformin 500 mg PO BID.") == [1503328, 1503328]


def test_two_strengths_of_one_drug_leave_the_bare_mention_at_the_ingredient(normalizer):
    assert _doc_drugs(normalizer, "metformin 500 mg, then metformin 850 mg tablet. Tolerating metformin.") == \
        [1503328, 1503327, 1503297]
    assert _doc_drugs(normalizer, "Tolerating metformin well.") == [1503297]


def test_strength_per_puff_or_actuation():
    for written in (["0.09", "mg", "puff"], ["0.09", "mg", "actuation"], ["90", "mcg", "puffs"]):
        assert drugs.parse_written_strength(written, 0).strength == "0.09 MG/ACTUAT"


def test_entity_label_picks_the_abbreviation_sense(normalizer):
    # MS: multiple sclerosis, mitral stenosis or morphine sulfate; a DRUG can only be the last.
    assert concept(normalizer, "MS", "DRUG") == 1110410
    # Two PROBLEM senses and no context: no guess.
    assert concept(normalizer, "MS", "PROBLEM") is None


def test_analyte_given_is_a_drug_and_measured_is_a_test():
    matcher = DictionaryMatcher()  # the shipped demo vocabulary: potassium and sodium are lab tests there
    found = [(e.text, e.label) for e in matcher(Doc(text="Potassium 3.1, sodium was low. Received potassium "
                                                        "chloride 40 mEq; started calcium supplementation.")).entities]
    assert found == [("Potassium", "TEST"), ("sodium", "TEST"), ("potassium chloride", "DRUG"), ("calcium", "DRUG")]
    # Neither a result nor a substance given: left to the NER model (here an initial, not potassium).
    assert [e.label for e in matcher(Doc(text="Seen by Dr. K. Smith; f/u K.")).entities] == ["TEST"]
