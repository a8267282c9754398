"""Drug names: parse RxNorm product names and the strength/form written after a drug in a note.

RxNorm names follow a fixed grammar (``[quantity] ingredient amount UNIT[/UNIT] [/ ...] dose form
[brand]``), so a clinical drug yields its ingredients, strengths and dose-form words, and the
dictionary can index ``metformin 500 MG`` -> products. Units and forms as clinicians write them
(``mg``, ``mcg``, ``tab``, ``ER``) are data in ``resources/vocab/drugs.json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from notenlp.resources import resource_path
from notenlp.vocab import text

_BRAND = re.compile(r"\s*\[([^\]]+)\]\s*$")
_PREFIX = re.compile(r"^(?:NDA\d+\s+)?(?:\d+(?:\.\d+)?\s+(?:HR|ML|ACTUAT|DAY|MG|UNT)\s+)?(?:Abuse-Deterrent\s+)?"
                     r"(?:\d+\s+HR\s+)?")
_COMPONENT = re.compile(r"^(?P<ingredient>.+?)\s+(?P<amount>\d+(?:\.\d+)?)\s+(?P<unit>[A-Z]+)(?:/(?P<per>[A-Z]+))?"
                        r"(?:\s+(?P<rest>.*))?$")


@dataclass(frozen=True)
class DrugData:
    units: dict[str, tuple[str, float]]
    forms: dict[str, str]
    salts: frozenset[str]
    salt_exceptions: frozenset[str]
    default_form_preference: tuple[str, ...]
    brands: dict[str, str]
    combination_joiners: frozenset[str]
    combination_words: frozenset[str]


@lru_cache(maxsize=1)
def drug_data() -> DrugData:
    raw = json.loads(resource_path("vocab", "drugs.json").read_text(encoding="utf-8"))
    return DrugData(
        units={k: (v[0], float(v[1])) for k, v in raw["units"].items()},
        forms=dict(raw["forms"]),
        salts=frozenset(raw["salts"]),
        salt_exceptions=frozenset(raw["salt_exceptions"]),
        default_form_preference=tuple(raw["default_form_preference"]),
        brands=dict(raw.get("brands", {})),
        combination_joiners=frozenset(raw.get("combination_joiners", ())),
        combination_words=frozenset(raw.get("combination_words", ())),
    )


@dataclass(frozen=True)
class Product:
    ingredients: tuple[str, ...]  # as RxNorm writes them, lowercase
    strengths: tuple[str, ...]  # canonical "500 MG", "5 MG/ML"
    form: str  # dose-form words, lowercase ("extended release oral tablet")
    brand: str


def canonical_amount(amount: float, unit: str, per: str | None = None) -> str:
    value, unit = amount, unit.upper()
    factor = drug_data().units.get(unit.lower(), (unit, 1.0))
    unit, value = factor[0], value * factor[1]
    return f"{value:g} {unit}" + (f"/{per.upper()}" if per else "")


@lru_cache(maxsize=100_000)  # concept names recur in every note; a Product is immutable
def parse_product(name: str) -> Product | None:
    """``24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet`` -> its parts."""
    if name.startswith("{"):
        return None  # packs: several products in one
    brand_match = _BRAND.search(name)
    brand = brand_match.group(1) if brand_match else ""
    body = _BRAND.sub("", name)
    body = _PREFIX.sub("", body)
    ingredients, strengths, form = [], [], ""
    parts = body.split(" / ")
    for i, part in enumerate(parts):
        match = _COMPONENT.match(part.strip())
        if not match:
            return None
        ingredients.append(match.group("ingredient").lower())
        strengths.append(canonical_amount(float(match.group("amount")), match.group("unit"), match.group("per")))
        rest = match.group("rest") or ""
        if rest and i < len(parts) - 1:
            return None
        form = rest.lower()
    return Product(tuple(ingredients), tuple(strengths), form, brand)


_PACK_COMPONENT = re.compile(r"\d+\s+\(([^()]*)\)")
INERT_INGREDIENTS = frozenset({"inert ingredients", "inert ingredient"})


def pack_ingredient_keys(name: str) -> tuple[list[str], str]:
    """Plain-ingredient keys a clinician would write for a pack (``{21 (ethinyl estradiol 0.035 MG /
    norgestimate 0.25 MG Oral Tablet) / 7 (inert ingredients 1 MG Oral Tablet) } Pack``), and its form.

    Keys: all active ingredients combined, and, when a pack adds single-ingredient tablets to
    combination tablets (an iron placebo week), the combination tablets' ingredients alone, as
    notes name such packs by their hormones. Truncated names keep the components that parse.
    """
    if not name.startswith("{"):
        return [], ""
    components = [parse_product(part) for part in _PACK_COMPONENT.findall(name)]
    active = [c for c in components if c is not None and not set(c.ingredients) <= INERT_INGREDIENTS]
    if not active:
        return [], ""
    ingredient_sets = [{text.key(plain_ingredient(i)) for i in c.ingredients if i not in INERT_INGREDIENTS}
                       for c in active]
    keys = [combo_key(sorted(set().union(*ingredient_sets)))]
    combination = [k for k in ingredient_sets if len(k) > 1]
    if combination and len(ingredient_sets) > len(combination):
        keys.append(combo_key(sorted(set().union(*combination))))
    return list(dict.fromkeys(keys)), active[0].form


def plain_ingredient(ingredient: str) -> str:
    """The name a clinician writes: ``metformin hydrochloride`` -> ``metformin`` (salts are data)."""
    data = drug_data()
    lowered = ingredient.lower()
    if lowered in data.salt_exceptions:
        return lowered
    words = lowered.replace(",", " ").split()
    kept = [words[0]] + [w for w in words[1:] if w not in data.salts]
    return " ".join(kept)


def combo_key(ingredient_keys: list[str]) -> str:
    """Key of a multi-ingredient product: its plain ingredient keys, sorted, joined by ' + '."""
    return " + ".join(sorted(set(ingredient_keys)))


@lru_cache(maxsize=100_000)
def ingredient_key(concept_name: str, concept_class_id: str = "") -> str | None:
    """The plain-ingredient (or combination) key of a drug concept, to find its other products."""
    if concept_class_id == "Ingredient":
        return text.key(plain_ingredient(concept_name))
    product = parse_product(concept_name)
    if product is None:
        return None if concept_class_id else text.key(plain_ingredient(concept_name))
    keys = [text.key(plain_ingredient(i)) for i in product.ingredients]
    return keys[0] if len(keys) == 1 else combo_key(keys)


def brand_of(name: str) -> str:
    """``... [Yaz 28 Day]`` -> ``Yaz``; packs included."""
    match = _BRAND.search(name)
    if not match:
        return ""
    return re.sub(r"\s+\d+(?:/\d+)?\s+Day$|\s+\d+(?:\.\d+)?(?:/[\d.]+)*$", "", match.group(1)).strip()


def written_forms(tokens: list[str], max_tokens: int = 2) -> frozenset[str]:
    forms = drug_data().forms
    return frozenset(forms[t.lower()] for t in tokens[:max_tokens] if t.lower() in forms)


def strength_key(ingredient: str, strength: str) -> str:
    return f"{text.key(plain_ingredient(ingredient))} @ {strength}"


PER_UNITS = frozenset({"ML", "ACTUAT", "HR"})
RELEASE_WORDS = frozenset({"er", "xr", "sr", "xl", "dr", "ec"})


@dataclass
class WrittenStrength:
    strength: str  # canonical "500 MG"
    form_words: frozenset[str]
    end: int  # index of the token after the last one used


def parse_written_strength(tokens: list[str], start: int, max_tokens: int = 6) -> WrittenStrength | None:
    """Strength and form words right after a drug name: ``500 mg tablet``, ``0.5mg``, ``75 mcg PO``."""
    data = drug_data()
    i = start
    limit = min(len(tokens), start + max_tokens)
    form_words: set[str] = set()
    # A salt (``metformin hydrochloride 500 mg``) or release word may come between the drug and its strength.
    while i < limit and (tokens[i].lower() in data.salts or tokens[i].lower() in RELEASE_WORDS):
        if tokens[i].lower() in data.forms:
            form_words.add(data.forms[tokens[i].lower()])
        i += 1
    if i >= limit:
        return None
    number = tokens[i]
    if not re.fullmatch(r"\d+(?:\.\d+)?", number) or i + 1 >= len(tokens):
        return None
    unit_token = tokens[i + 1].lower()
    if unit_token not in data.units:
        return None
    per = None
    end = i + 2
    # ``mg/ml``, ``mcg/puff``, ``mg/actuation``: a per-unit of volume, actuation or time.
    if end < len(tokens) and data.units.get(tokens[end].lower(), ("",))[0] in PER_UNITS:
        per = data.units[tokens[end].lower()][0]
        end += 1
    strength = canonical_amount(float(number), unit_token, per)
    j = end
    while j < min(len(tokens), end + 3) and tokens[j].lower() in data.forms:
        form_words.add(data.forms[tokens[j].lower()])
        j += 1
    return WrittenStrength(strength, frozenset(form_words), j)


def form_score(product_form: str, wanted: frozenset[str]) -> float:
    """How well a product's dose form fits the form words written (higher is better)."""
    words = set(product_form.split())
    if wanted:
        return sum(1.0 for w in wanted if w in words or any(p.startswith(w) for p in words)) / len(wanted)
    preference = drug_data().default_form_preference
    for rank, form in enumerate(preference):
        if product_form == form:
            return 0.9 - rank * 0.1
    # Unwritten modifiers (extended release, chewable) make a product a worse default.
    return 0.4 - 0.1 * len(words - {"oral", "tablet", "capsule"})
