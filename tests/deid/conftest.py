import pytest

from notenlp.deid import Deidentifier

SECRET = "ab" * 32


@pytest.fixture(scope="session")
def tagger() -> Deidentifier:
    return Deidentifier(mode="tag", secret_hex=SECRET)


@pytest.fixture(scope="session")
def surrogater() -> Deidentifier:
    return Deidentifier(mode="surrogate", secret_hex=SECRET)
