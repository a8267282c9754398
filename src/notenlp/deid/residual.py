"""Residual-PHI check: patterns (data in resources/deid/residual.json) that must not remain after de-identification."""

from __future__ import annotations

import json
import re
from functools import lru_cache

from notenlp.resources import resource_path


@lru_cache(maxsize=2)
def _patterns(name: str = "deid/residual.json") -> tuple[tuple[str, re.Pattern[str], re.Pattern[str] | None], ...]:
    spec = json.loads(resource_path(*name.split("/")).read_text(encoding="utf-8"))
    return tuple((p["type"], re.compile(p["regex"]), re.compile(p["exclude"]) if p.get("exclude") else None)
                 for p in spec["patterns"])


def find_residual(text: str) -> list[tuple[str, int, int]]:
    """``(type, start, end)`` of every residual identifier; the reserved surrogate ranges are not reported."""
    found = []
    for phi_type, regex, exclude in _patterns():
        for m in regex.finditer(text):
            if exclude is not None and exclude.search(m.group()):
                continue
            found.append((phi_type, m.start(), m.end()))
    return sorted(found, key=lambda r: (r[1], r[2]))
