from __future__ import annotations

import pytest

from notenlp.demo.generator import iter_demo_notes


@pytest.fixture(scope="session")
def gold_200() -> list[dict]:
    return list(iter_demo_notes(200, seed=0))
