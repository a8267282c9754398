"""A tiny Athena download written by the tests, and its compiled dictionary."""

from __future__ import annotations

from pathlib import Path

import pytest

HEADERS = {
    "CONCEPT": "concept_id concept_name domain_id vocabulary_id concept_class_id standard_concept concept_code "
               "valid_start_date valid_end_date invalid_reason",
    "CONCEPT_SYNONYM": "concept_id concept_synonym_name language_concept_id",
    "CONCEPT_RELATIONSHIP": "concept_id_1 concept_id_2 relationship_id valid_start_date valid_end_date invalid_reason",
    "VOCABULARY": "vocabulary_id vocabulary_name vocabulary_reference vocabulary_version vocabulary_concept_id",
    "DRUG_STRENGTH": "drug_concept_id ingredient_concept_id amount_value amount_unit_concept_id numerator_value "
                     "numerator_unit_concept_id denominator_value denominator_unit_concept_id box_size "
                     "valid_start_date valid_end_date invalid_reason",
}

# (id, name, domain, vocabulary, class, standard, code)
CONCEPTS = [
    (320128, "Essential hypertension", "Condition", "SNOMED", "Clinical Finding", "S", "59621000"),
    (45591453, "Essential (primary) hypertension", "Condition", "ICD10CM", "3-char billing code", "", "I10"),
    (313217, "Atrial fibrillation", "Condition", "SNOMED", "Clinical Finding", "S", "49436004"),
    (4230399, "Closed fracture of hip", "Condition", "SNOMED", "Clinical Finding", "S", "359817006"),
    (374919, "Multiple sclerosis", "Condition", "SNOMED", "Clinical Finding", "S", "24700007"),
    (315273, "Mitral valve stenosis", "Condition", "SNOMED", "Clinical Finding", "S", "79619009"),
    (201826, "Type 2 diabetes mellitus", "Condition", "SNOMED", "Clinical Finding", "S", "44054006"),
    (312437, "Dyspnea", "Condition", "SNOMED", "Clinical Finding", "S", "267036007"),
    (255848, "Pneumonia", "Condition", "SNOMED", "Clinical Finding", "S", "233604007"),
    (1503297, "metformin", "Drug", "RxNorm", "Ingredient", "S", "6809"),
    (1503328, "metformin hydrochloride 500 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S", "861007"),
    (1503327, "metformin hydrochloride 850 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S", "861010"),
    (40163924, "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet", "Drug", "RxNorm",
     "Quant Clinical Drug", "S", "860975"),
    (1110410, "morphine", "Drug", "RxNorm", "Ingredient", "S", "7052"),
    (35605858, "1 ML morphine sulfate 5 MG/ML Injection", "Drug", "RxNorm", "Quant Clinical Drug", "S", "1732136"),
    (19132304, "levonorgestrel 0.000833 MG/HR Intrauterine System [Mirena]", "Drug", "RxNorm", "Branded Drug", "S",
     "807283"),
    (43012754, "levonorgestrel 0.00354 MG/HR Drug Implant", "Drug", "RxNorm", "Clinical Drug", "S", "1366334"),
    (19128022, "{21 (ethinyl estradiol 0.035 MG / norgestimate 0.25 MG Oral Tablet) / 7 (inert ingredients 1 MG "
               "Oral Tablet) } Pack [Sprintec 28 Day]", "Drug", "RxNorm", "Branded Pack", "S", "756198"),
    (3000963, "Hemoglobin [Mass/volume] in Blood", "Measurement", "LOINC", "Lab Test", "S", "718-7"),
    (4163872, "Plain chest X-ray", "Procedure", "SNOMED", "Procedure", "S", "399208008"),
    (4013886, "Asthma", "Observation", "SNOMED", "Substance", "S", "0000"),  # wrong class on purpose: not emitted
    (8576, "milligram", "Unit", "UCUM", "Unit", "S", "mg"),
    (9999001, 'Has "quoted" name', "Condition", "SNOMED", "Clinical Finding", "S", "1"),
]
SYNONYMS = [(312437, "Breathlessness", 4180186), (255848, "Lung infection", 4180186)]
RELATIONSHIPS = [(45591453, 320128, "Maps to"), (320128, 45591453, "Mapped from")]


def write_athena(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)

    def write(name: str, rows: list[tuple]) -> None:
        lines = ["\t".join(HEADERS[name].split())] + ["\t".join(str(v) for v in row) for row in rows]
        (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    write("CONCEPT", [(*c, "19700101", "20991231", "") for c in CONCEPTS])
    write("CONCEPT_SYNONYM", SYNONYMS)
    write("CONCEPT_RELATIONSHIP", [(*r, "19700101", "20991231", "") for r in RELATIONSHIPS])
    write("VOCABULARY", [("SNOMED", "SNOMED CT", "ref", "v1", 44819097)])
    write("DRUG_STRENGTH", [(1503328, 1503297, 500, 8576, "", "", "", "", "", "19700101", "20991231", ""),
                            (19132304, 1589505, "", "", 0.000833, 8576, "", "", "", "19700101", "20991231", "")])
    return folder


@pytest.fixture(scope="session")
def athena_dir(tmp_path_factory) -> Path:
    return write_athena(tmp_path_factory.mktemp("athena"))


@pytest.fixture(scope="session")
def tiny_warehouse(tmp_path_factory, athena_dir) -> Path:
    from notenlp.vocab.loader import load_athena

    path = tmp_path_factory.mktemp("warehouse") / "vocab.duckdb"
    load_athena(path, athena_dir)
    return path


@pytest.fixture(scope="session")
def tiny_dictionary(tmp_path_factory, tiny_warehouse) -> str:
    from notenlp.vocab.dictionary import compile_dictionary

    out = tmp_path_factory.mktemp("dictionary") / "dictionary.parquet"
    compile_dictionary(tiny_warehouse, out)
    return str(out)
