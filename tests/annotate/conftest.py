import pytest

from notenlp.annotate.loading import load_available_pipeline
from notenlp.annotate.medications import MedicationAttributes
from notenlp.annotate.sections import SectionDetector
from notenlp.annotate.sentences import SentenceSplitter
from notenlp.doc import Doc


@pytest.fixture(scope="session")
def annotate_pipeline():
    """The default annotate pipeline with whatever components are importable in this checkout."""
    pipeline, _ = load_available_pipeline("annotate")
    return pipeline


@pytest.fixture(scope="module")
def attributes():
    """Medication attributes of a text, as (label, text) pairs, after sentences and sections."""
    splitter, sections, medications = SentenceSplitter(), SectionDetector(), MedicationAttributes()

    def run(text: str) -> list[tuple[str, str]]:
        doc = medications(sections(splitter(Doc(text=text))))
        return [(e.label, e.text) for e in doc.entities]

    return run
