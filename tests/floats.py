"""Compare records that hold floats: the floats within rounding, everything else exactly.

Another CPU (or another summation order) can round a computed float's last bit differently, so a
test never compares one with ``==``; ints, strings, ids and the shape of the record stay exact.
"""

from __future__ import annotations

from typing import Any

import pytest

REL = 1e-9  # far above a few ulps of rounding (~1e-16), far below any difference a test means


def approx_floats(expected: Any, rel: float = REL, abs: float = 1e-12) -> Any:  # noqa: A002 (pytest's name)
    """``expected`` with every float (at any depth of dicts, lists and tuples) made a ``pytest.approx``.

    ``actual == approx_floats(expected)`` then compares the floats with that tolerance and all
    else (keys, lengths, ints, bools, strings, None) exactly.
    """
    if isinstance(expected, float):
        return pytest.approx(expected, rel=rel, abs=abs)
    if isinstance(expected, dict):
        return {k: approx_floats(v, rel, abs) for k, v in expected.items()}
    if isinstance(expected, (list, tuple)):
        items = [approx_floats(v, rel, abs) for v in expected]
        return type(expected)(*items) if hasattr(expected, "_fields") else type(expected)(items)
    return expected
