import pytest

from notenlp.annotate.loading import load_available_pipeline


@pytest.fixture(scope="session")
def annotate_pipeline():
    """The default annotate pipeline with whatever components are importable in this checkout."""
    pipeline, _ = load_available_pipeline("annotate")
    return pipeline
