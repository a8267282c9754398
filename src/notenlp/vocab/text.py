"""Token normalization shared by the dictionary compiler, the matcher and the normalizer.

A term and a mention meet when their *keys* are equal: tokens lowercased, punctuation
dropped, simple plural suffixes stemmed (``fractures`` -> ``fracture``, ``ribs`` -> ``rib``,
``arteries`` -> ``artery``). The *bag* key also sorts the tokens and drops function words,
so ``fracture of hip`` and ``hip fracture`` share a bag.
"""

from __future__ import annotations

import re
from functools import lru_cache

# A token starts with a letter and may carry digits (t2dm, b12, a1c), or is a number (500, 0.5).
TOKEN_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*|\d+(?:\.\d+)?")
BAG_STOPWORDS = frozenset({"of", "the", "a", "an", "in", "on", "to", "for", "by", "and", "or", "at"})
_NO_PLURAL_ENDINGS = ("ss", "us", "is", "ys", "as", "os")


@lru_cache(maxsize=200_000)
def norm_token(token: str) -> str:
    word = token.lower()
    if word.isdigit() or len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(_NO_PLURAL_ENDINGS):
        return word[:-1]
    return word


def tokens_with_offsets(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in TOKEN_RE.finditer(text)]


def norm_tokens(text: str) -> list[str]:
    return list(map(norm_token, TOKEN_RE.findall(text)))


def key(text: str) -> str:
    return " ".join(norm_tokens(text))


def bag(text_or_tokens: str | list[str]) -> str:
    tokens = norm_tokens(text_or_tokens) if isinstance(text_or_tokens, str) else text_or_tokens
    return " ".join(sorted(t for t in tokens if t not in BAG_STOPWORDS))


_PARENTHETICAL = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]")


def name_variants(name: str, strip_suffixes: tuple[str, ...] = ()) -> list[str]:
    """Other ways a concept name is written in notes (longest-match keys, original first).

    ``Fracture of hip`` -> ``hip fracture``; ``Diabetes mellitus, type 2`` -> ``type 2 diabetes
    mellitus``; ``Severe anxiety (panic)`` -> ``Severe anxiety``; ``Vomiting symptom`` -> ``Vomiting``.
    """
    variants = [name]
    base = _PARENTHETICAL.sub("", name).strip() if ("(" in name or "[" in name) else name
    if base and base != name:
        variants.append(base)
    if "[" in name:  # LOINC: the component before the [property] is how notes name the test
        component = name.split("[", 1)[0].strip()
        if component:
            variants.append(component)
    lowered = base.lower()
    for suffix in strip_suffixes:
        if lowered.endswith(" " + suffix):
            variants.append(base[: -len(suffix) - 1])
    if " of " in base:
        head, _, tail = base.partition(" of ")
        if " of " not in tail and "," not in base and len(tail.split()) <= 3:
            variants.append(f"{tail} {head}")
    if ", " in base:
        head, _, tail = base.partition(", ")
        if ", " not in tail and len(tail.split()) <= 3:
            variants.append(f"{tail} {head}")
    if len(variants) == 1:
        return variants
    seen: set[str] = set()
    out = []
    for variant in variants:
        k = key(variant)
        if k and k not in seen:
            seen.add(k)
            out.append(variant)
    return out


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, stopping early beyond ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]
