import pytest

from notenlp.ner.corpora import LabelledText
from notenlp.ner.model import NerModel

DRUGS = ["aspirin", "heparin", "warfarin", "metformin", "lisinopril", "insulin"]
PROBLEMS = ["headache", "pneumonia", "hypertension", "diabetes", "chest pain", "atrial fibrillation"]
TEMPLATES = [
    "Patient was given {drug} for {problem} .",
    "She takes {drug} daily because of {problem} .",
    "History of {problem} , started on {drug} .",
    "No {problem} today ; continue {drug} .",
]


def synthetic_texts() -> list[LabelledText]:
    docs = []
    for i, template in enumerate(TEMPLATES):
        for j, drug in enumerate(DRUGS):
            problem = PROBLEMS[(i + j) % len(PROBLEMS)]
            text = template.format(drug=drug, problem=problem)
            d, p = text.index(drug), text.index(problem)
            docs.append(LabelledText(f"{i}-{j}", text, [(d, d + len(drug), "DRUG"), (p, p + len(problem), "PROBLEM")]))
    return docs


@pytest.fixture(scope="session")
def tiny_model() -> NerModel:
    return NerModel.train(synthetic_texts(), {"max_iterations": 60, "c1": 0.0, "c2": 0.01})


@pytest.fixture(scope="session")
def tiny_model_path(tiny_model, tmp_path_factory):
    return tiny_model.save(tmp_path_factory.mktemp("ner") / "tiny.zip")
