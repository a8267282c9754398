"""Third kept-aside part of the de-identification benchmark (issue #21): ICU nursing notes written apart.

The parts of ``notenlp.evaluation.nursing_notes`` (dev, aside, aside2) have all been seen by the people
tuning the detectors. This part is written independently of their templates and pools, so that a
detector tuned on them meets text it was not fitted to:

- its own note layouts: system-by-system progress notes ("Neuro: ... CV: ... Resp: ... GI/GU: ...
  Social: ... Plan: ..."), run-on shift notes, event notes, family-meeting notes and transfer notes;
- its own phrasings of every cue style (``pt goes by ...``, ``husb ... went home``, ``care assumed from
  ...``, ``ho ... at bs``, ``lives at ... in ...``, ``son's # is a ... number``) and its own hard negatives
  (``no major events``, ``a-paced``, ``honey-thick liquids``, ``5/5 strength``, ``500x2``, ``slept.no``);
- its own surrogates: Census names of frequency ranks no other part draws (``name_ranks``), names in
  neither Census list the de-identifier ships (``unlisted_*``), English-word names (``Pace``, ``Early``,
  ``Storm``, ``Honey``) none of which another part plants or ``cued_only_names`` holds, its own
  hospitals and their abbreviations, wards, nursing homes / clinics, towns, streets and area codes;
- dates in many formats (two-digit years, month/year, m/d), phones full / partial / extension / pager /
  area code, ages over 89, MRNs and account numbers;
- real PHI-free clinical sentences between the lines from the *aside* half of ``../shared/corpora``
  (``nursing_notes.sentence_part``; its own draws).

NOT USED FOR TUNING: the lead reads its totals once at the end of a session; nobody reads its single
errors (``notenlp evaluate deid --errors`` never lists them) and nothing of it goes into training data.

A note is ``{"note_id", "person_id", "note_date", "part", "case", "layout", "text", "phi": [...],
"negatives": [{"start", "end"}]}``; a planted PHI is ``{"start", "end", "type", "subtype", "text",
"case", "english_word"}`` (``"unlisted": True`` for a name no lexicon holds), the shape of the other parts.
``negatives`` are the spans of the hard-negative lines, which carry no gold.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from random import Random
from typing import Any

from notenlp.resources import resource_path

log = logging.getLogger(__name__)

PART = "aside3"
SEED = 4451  # no other part's seed: its random streams share nothing with them
SPEC = ("deid_benchmark", "nursing_aside3.json")
ENGLISH_WORD_RATE = 0.15  # share of first names (and, x0.8, surnames) drawn from the English-word names
UNLISTED_RATE = 0.25  # share of other names drawn from the names the de-identifier's lexicons lack
# Real notes hold little PHI among much shorthand: many notes carry no PHI line or one.
PHI_LINES = ((0, 0.18), (1, 0.27), (2, 0.22), (3, 0.15), (4, 0.1), (5, 0.05), (6, 0.03))
CASE_STYLES = (("lower", 0.4), ("upper", 0.15), ("mixed", 0.45))
NAME_CASES = (("title", 0.6), ("lower", 0.28), ("upper", 0.12))  # names in a mixed note
BACKGROUND_SHARES = (("negex", 0.6), ("ade", 0.2), ("bc5cdr", 0.2))

SLOT_SUBTYPES: dict[str, str] = {
    "PT_FIRST": "NAME.PATIENT", "PT_LAST": "NAME.PATIENT", "PT_FULL": "NAME.PATIENT",
    "FAM_FIRST": "NAME.FAMILY", "FAM_FULL": "NAME.FAMILY",
    "DOC_LAST": "NAME.CLINICIAN", "DOC_FULL": "NAME.CLINICIAN", "NURSE_FIRST": "NAME.CLINICIAN",
    "NURSE_FULL": "NAME.CLINICIAN",
    "DATE_FULL": "DATE.FULL", "DATE_MD": "DATE.PARTIAL", "DATE_MONTHNAME": "DATE.PARTIAL",
    "DATE_MY": "DATE.MONTH_YEAR", "YEAR2": "DATE.YEAR2", "YEAR4": "DATE.YEAR",
    "HOSP": "LOCATION.HOSPITAL", "HOSP_ABBR": "LOCATION.HOSPITAL_ABBR", "UNIT": "LOCATION.UNIT",
    "FACILITY": "LOCATION.FACILITY", "TOWN": "LOCATION.CITY", "STREET": "LOCATION.STREET",
    "PHONE_FULL": "PHONE.FULL", "PHONE_PARTIAL": "PHONE.PARTIAL", "AREA": "PHONE.AREA_CODE",
    "EXT": "PHONE.EXTENSION", "PAGER": "PHONE.PAGER",
    "AGE90": "AGE.OVER_89", "MRN": "ID.MRN", "ACCOUNT": "ID.ACCOUNT",
}
_SLOT = re.compile(r"\{([^{}]*)\}")
_RANGE = re.compile(r"(-?\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_FULL_DATES = ("{M}/{D}/{YY}", "{MM}/{DD}/{YYYY}", "{M}-{D}-{YY}", "{D}-{Mon}-{YYYY}", "{Mon} {D} '{YY}",
               "{M}.{D}.{YY}", "{Month} {D}, {YYYY}", "{YYYY}/{MM}/{DD}", "{MM}-{DD}-{YYYY}")
_NUMERIC_MONTH_DAYS = ("{M}/{D}", "{M}-{D}", "{MM}/{DD}")
_NAMED_MONTH_DAYS = ("{Mon} {D}", "{Month} {D}{th}", "{D} {Mon}", "{Mon}-{D}")
_MONTH_YEARS = ("{M}/{YY}", "{Mon} '{YY}", "{Month} {YYYY}", "{Mon}-{YY}", "{M}/{YYYY}")
_PHONES = ("{a}-{e}-{l}", "({a}) {e}-{l}", "{a}/{e}-{l}", "{a}.{e}.{l}", "1-{a}-{e}-{l}")
_LINE_JOINS = (("\n", 0.45), (". ", 0.25), (", ", 0.1), (".", 0.1), ("; ", 0.1))
_IN_SECTION_JOINS = ((", ", 0.4), (". ", 0.3), ("; ", 0.15), (" ", 0.1), (".", 0.05))


def _weighted(rng: Random, options) -> Any:
    roll, total = rng.random(), 0.0
    for value, weight in options:
        total += weight
        if roll < total:
            return value
    return options[-1][0]


@lru_cache(maxsize=1)
def load_spec() -> dict[str, Any]:
    """The part's templates and pools (``resources/deid_benchmark/nursing_aside3.json``)."""
    return json.loads(resource_path(*SPEC).read_text(encoding="utf-8"))


def _census_band(name: str, low: int, high: int) -> list[str]:
    """Names of frequency ranks [low, high) of a Census list in ``resources/deid/lexicons``.

    Read from the file, not the de-identifier's Lexicons: tuning the detector must not change the part."""
    names: list[str] = []
    with resource_path("deid", "lexicons", name).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip() and not line.startswith("#"):
                names.append(line.strip())
                if len(names) == high:
                    break
    return names[low:]


@dataclass(frozen=True)
class Pools:
    first: tuple[str, ...]
    last: tuple[str, ...]
    first_words: tuple[str, ...]
    last_words: tuple[str, ...]
    unlisted_first: tuple[str, ...]
    unlisted_last: tuple[str, ...]


def other_parts_names() -> frozenset[str]:
    """Every name the other parts list by hand (English-word and unlisted names), lower case."""
    from notenlp.evaluation.nursing_notes import load_templates

    return frozenset(name.lower() for spec in load_templates()["parts"].values()
                     for key in ("first_words", "last_words", "unlisted_first", "unlisted_last")
                     for name in spec.get(key, ()))


@lru_cache(maxsize=1)
def pools() -> Pools:
    """The part's name pools: a Census rank band and its lists.

    The band leaves out any name listed by hand here or in another part, and any name of the ranks the other
    parts draw from either Census list (``Aaron`` is a frequent first name and a rarer surname)."""
    spec = load_spec()
    ranks = spec["name_ranks"]
    listed = other_parts_names() | {n.lower() for key in ("first_words", "last_words", "unlisted_first",
                                                          "unlisted_last") for n in spec[key]}
    listed |= {n.lower() for n in _census_band("first_names.txt", 0, ranks["first"][0])
               + _census_band("last_names.txt", 0, ranks["last"][0])}

    def band(name: str, ranks: list[int]) -> tuple[str, ...]:
        return tuple(n.title() for n in _census_band(name, *ranks) if n.lower() not in listed)

    return Pools(band("first_names.txt", ranks["first"]), band("last_names.txt", ranks["last"]),
                 tuple(spec["first_words"]), tuple(spec["last_words"]),
                 tuple(spec["unlisted_first"]), tuple(spec["unlisted_last"]))


@dataclass(frozen=True)
class _Person:
    first: str
    last: str


def _person(rng: Random, p: Pools) -> _Person:
    def pick(words, unlisted, census, word_rate):
        if rng.random() < word_rate:
            return rng.choice(words)
        return rng.choice(unlisted if rng.random() < UNLISTED_RATE else census)

    return _Person(pick(p.first_words, p.unlisted_first, p.first, ENGLISH_WORD_RATE),
                   pick(p.last_words, p.unlisted_last, p.last, ENGLISH_WORD_RATE * 0.8))


@dataclass
class _Writer:
    rng: Random
    case: str  # lower | upper | mixed
    note_date: date
    patient: _Person
    family: list[_Person]
    doctors: list[_Person]
    nurses: list[_Person]
    age: int  # the patient's, over 89
    mrn: str
    parts: list[str] = field(default_factory=list)
    pos: int = 0
    phi: list[dict[str, Any]] = field(default_factory=list)
    negatives: list[dict[str, int]] = field(default_factory=list)

    def _cased(self, text: str) -> str:
        return {"lower": text.lower(), "upper": text.upper()}.get(self.case, text)

    def add(self, text: str) -> None:
        text = self._cased(text)
        self.parts.append(text)
        self.pos += len(text)

    def last_char(self) -> str:
        return self.parts[-1][-1:] if self.parts else ""

    def add_phi(self, text: str, subtype: str, case: str, english_word: bool, unlisted: bool) -> None:
        if self.case != "mixed":
            case = self.case
        text = {"lower": text.lower(), "upper": text.upper()}.get(case, text)
        phi = {"start": self.pos, "end": self.pos + len(text), "type": subtype.split(".")[0], "subtype": subtype,
               "text": text, "case": case, "english_word": english_word}
        if unlisted:
            phi["unlisted"] = True  # a name the de-identifier's lexicons do not hold
        self.phi.append(phi)
        self.parts.append(text)
        self.pos += len(text)


def _date_fields(day: date) -> dict[str, str]:
    suffix = "th" if 11 <= day.day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day.day % 10, "th")
    return {"YYYY": f"{day.year}", "YY": f"{day.year % 100:02d}", "MM": f"{day.month:02d}", "M": f"{day.month}",
            "DD": f"{day.day:02d}", "D": f"{day.day}", "Mon": _MONTHS[day.month - 1][:3],
            "Month": _MONTHS[day.month - 1], "th": suffix}


def _name_value(w: _Writer, slot: str) -> tuple[str, list[str]]:
    """The planted name and its words."""
    rng = w.rng
    person = {"PT": w.patient, "FAM": None, "DOC": None, "NURSE": None}[slot.split("_")[0]]
    if person is None:
        person = rng.choice({"FAM": w.family, "DOC": w.doctors, "NURSE": w.nurses}[slot.split("_")[0]])
    words = {"FIRST": [person.first], "LAST": [person.last], "FULL": [person.first, person.last]}[slot.split("_")[1]]
    return " ".join(words), words


def _value(w: _Writer, slot: str) -> tuple[str, str, bool, bool]:
    """(text, case in a mixed note, English word, unlisted) of one planted value."""
    rng, spec, p = w.rng, load_spec(), pools()
    if slot.split("_")[0] in ("PT", "FAM", "DOC", "NURSE"):
        text, words = _name_value(w, slot)
        return (text, _weighted(rng, NAME_CASES), any(x in p.first_words or x in p.last_words for x in words),
                any(x in p.unlisted_first or x in p.unlisted_last for x in words))
    place_case = "lower" if rng.random() < 0.35 else "as written"
    if slot in ("HOSP", "HOSP_ABBR"):
        full, abbreviation = rng.choice(spec["hospitals"])
        return (full if slot == "HOSP" else abbreviation), place_case, False, False
    if slot in ("UNIT", "FACILITY", "TOWN"):
        return rng.choice(spec[{"UNIT": "units", "FACILITY": "facilities", "TOWN": "towns"}[slot]]), place_case, \
            False, False
    if slot == "STREET":
        street = rng.choice(spec["streets"])
        return (f"{rng.randint(3, 480)} {street}" if rng.random() < 0.7 else street), place_case, False, False
    if slot == "DATE_FULL":
        day = w.note_date - timedelta(days=rng.randint(1, 365 * 45 if rng.random() < 0.4 else 200))
        return rng.choice(_FULL_DATES).format(**_date_fields(day)), "as written", False, False
    if slot in ("DATE_MD", "DATE_MONTHNAME"):
        fields = _date_fields(w.note_date - timedelta(days=rng.randint(0, 30)))
        forms = _NUMERIC_MONTH_DAYS if slot == "DATE_MD" else _NAMED_MONTH_DAYS
        return rng.choice(forms).format(**fields), "as written", False, False
    if slot == "DATE_MY":
        fields = _date_fields(w.note_date - timedelta(days=rng.randint(60, 365 * 25)))
        return rng.choice(_MONTH_YEARS).format(**fields), "as written", False, False
    if slot == "YEAR2":
        year = rng.randint(1960, 1999) if rng.random() < 0.8 else rng.randint(2000, w.note_date.year - 1)
        return (f"'{year % 100:02d}" if rng.random() < 0.4 else f"{year % 100:02d}"), "as written", False, False
    if slot == "YEAR4":
        return str(rng.randint(1975, w.note_date.year - 1)), "as written", False, False
    exchange, line = rng.randint(201, 989), rng.randint(0, 9999)
    if slot == "PHONE_FULL":
        form = rng.choice(_PHONES)
        return form.format(a=rng.choice(spec["area_codes"]), e=exchange, l=f"{line:04d}"), "as written", False, False
    if slot == "PHONE_PARTIAL":
        text = f"{exchange}-{line:04d}" if rng.random() < 0.7 else f"{rng.randint(2, 8)}-{line:04d}"
        return text, "as written", False, False
    if slot == "AREA":
        return rng.choice(spec["area_codes"]), "as written", False, False
    if slot == "EXT":
        text = f"{rng.randint(1000, 9999)}" if rng.random() < 0.6 else f"{rng.randint(2, 8)}-{line:04d}"
        return text, "as written", False, False
    if slot == "PAGER":
        return str(rng.randint(10000, 99999) if rng.random() < 0.6 else rng.randint(1000, 9999)), "as written", \
            False, False
    if slot == "AGE90":
        return str(w.age), "as written", False, False
    if slot == "MRN":
        return w.mrn, "as written", False, False
    if slot == "ACCOUNT":
        return str(rng.randint(10 ** 9, 10 ** 11 - 1)), "as written", False, False
    raise ValueError(f"unknown PHI slot {slot!r}")


def fill(w: _Writer, template: str) -> None:
    """Write one template: literals in the note's case, PHI slots as gold spans."""
    cursor = 0
    for m in _SLOT.finditer(template):
        w.add(template[cursor:m.start()])
        cursor = m.end()
        content = m.group(1)
        if content in SLOT_SUBTYPES:
            text, case, word, unlisted = _value(w, content)
            w.add_phi(text, SLOT_SUBTYPES[content], case, word, unlisted)
        elif "|" in content:
            w.add(w.rng.choice(content.split("|")))
        elif (r := _RANGE.fullmatch(content)) is not None:
            low, high = r.groups()
            if "." in low:
                w.add(f"{w.rng.uniform(float(low), float(high)):.{len(low.split('.')[1])}f}")
            else:
                value = w.rng.randint(int(low), int(high))
                w.add(f"{value:0{len(low)}d}" if low.startswith("0") and len(low) > 1 else str(value))
        else:
            raise ValueError(f"template slot {{{content}}} is neither a PHI slot, a choice nor a range")
    w.add(template[cursor:])


def _write_item(w: _Writer, kind: str, text: str) -> None:
    if kind == "background":
        w.add(text)
        return
    if w.case == "mixed" and text[:1].isalpha() and w.rng.random() < 0.4:
        text = text[0].upper() + text[1:]  # a line starts with a capital ("Afeb.vss")
    start = w.pos
    fill(w, text)
    if kind == "negative":
        w.negatives.append({"start": start, "end": w.pos})


def _join(w: _Writer, joins) -> None:
    joiner = _weighted(w.rng, joins)
    if joiner[0] in ".;," and w.last_char() in ".!?:;,":
        joiner = " "  # a background sentence already ends in punctuation
    w.add(joiner)


def _phi_items(rng: Random, topics: list[str], n: int) -> list[tuple[str, str]]:
    """n (topic, PHI line) pairs, no line twice."""
    lines, out = load_spec()["phi_lines"], []
    for _ in range(n):
        topic = rng.choice(topics)
        line = rng.choice(lines[topic])
        if (topic, line) not in out:
            out.append((topic, line))
    return out


def _systems_note(w: _Writer, n_phi: int, negatives: list[str], background: list[str]) -> None:
    rng, spec = w.rng, load_spec()
    topic_sections = spec["phi_topics"]["systems"]
    sections = {name: [("clinical", line) for line in rng.sample(spec["clinical_lines"][name],
                                                                  min(len(spec["clinical_lines"][name]),
                                                                      rng.randint(1, 3)))]
                for name in spec["system_order"] if name == "hx" or rng.random() < 0.85}
    all_topics = sorted({t for topics in topic_sections.values() for t in topics})
    for topic, line in _phi_items(rng, all_topics, n_phi):
        where = [s for s, topics in topic_sections.items() if topic in topics]
        target = rng.choice(where)
        sections.setdefault(target, []).insert(rng.randint(0, len(sections.get(target, []))), ("phi", line))
    for kind, items in (("negative", negatives), ("background", background)):
        for item in items:
            target = rng.choice([s for s in sections if s != "hx"] or ["hx"])
            sections[target].insert(rng.randint(0, len(sections[target])), (kind, item))
    run_on = rng.random() < 0.3
    for name in spec["system_order"]:
        if name not in sections:
            continue
        if w.parts:
            w.add("  " if run_on else "\n")
        w.add(rng.choice(spec["section_labels"][name]) + " ")
        for index, (kind, text) in enumerate(sections[name]):
            if index:
                _join(w, _IN_SECTION_JOINS)
            _write_item(w, kind, text)


def _lines_note(w: _Writer, layout: str, n_phi: int, negatives: list[str], background: list[str]) -> None:
    rng, spec = w.rng, load_spec()
    own = spec["clinical_lines"][layout]
    lines = [("clinical", t) for t in rng.sample(own, min(len(own), rng.randint(2, 5)))]
    others = [t for name in spec["system_order"] for t in spec["clinical_lines"][name]]
    lines += [("clinical", t) for t in rng.sample(others, rng.randint(2, 8 if layout == "shift" else 4))]
    lines += [("phi", line) for _, line in _phi_items(rng, spec["phi_topics"][layout], n_phi)]
    lines += [("negative", t) for t in negatives] + [("background", t) for t in background]
    rng.shuffle(lines)
    if layout in ("event", "family", "transfer"):  # the note opens on its own subject
        first = next(i for i, (kind, t) in enumerate(lines) if kind == "clinical" and t in own)
        lines.insert(0, lines.pop(first))
    for index, (kind, text) in enumerate(lines):
        if index:
            _join(w, _LINE_JOINS)
        elif w.parts:
            w.add("\n")  # after the header
        if layout == "shift" and rng.random() < 0.15:
            w.add(f"{rng.randint(0, 23):02d}{rng.choice(('00', '15', '30', '45'))}: ")  # a clock time, not PHI
        _write_item(w, kind, text)


def _write_note(rng: Random, background: list[str]) -> tuple[_Writer, str]:
    spec, p = load_spec(), pools()
    w = _Writer(rng=rng, case=_weighted(rng, CASE_STYLES),
                note_date=date(2003, 1, 1) + timedelta(days=rng.randint(0, 17 * 365)), patient=_person(rng, p),
                family=[_person(rng, p) for _ in range(rng.randint(1, 3))],
                doctors=[_person(rng, p) for _ in range(2)], nurses=[_person(rng, p) for _ in range(2)],
                age=rng.randint(90, 106), mrn=f"{rng.randint(0, 10 ** 9 - 1):09d}"[rng.randint(0, 3):])
    layout = _weighted(rng, [tuple(x) for x in spec["layouts"]])
    if layout != "systems" or rng.random() < 0.8:
        fill(w, rng.choice(spec["headers"][layout]))
    negatives = rng.sample(spec["hard_negatives"], rng.randint(1, 4))
    n_phi = _weighted(rng, PHI_LINES)
    if layout == "systems":
        _systems_note(w, n_phi, negatives, background)
    else:
        _lines_note(w, layout, n_phi, negatives, background)
    return w, layout


def background_pool() -> dict[str, list[str]]:
    """PHI-free real sentences of the corpora's aside half, by source; empty lists without the corpora."""
    from notenlp.evaluation.nursing_notes import background_sentences

    return background_sentences("aside")


def _sample_background(rng: Random, by_source: dict[str, list[str]], n: int) -> list[str]:
    shares = [(source, share) for source, share in BACKGROUND_SHARES if by_source.get(source)]
    out: list[str] = []
    for _ in range(n if shares else 0):
        total = sum(share for _, share in shares)
        source = _weighted(rng, [(s, share / total) for s, share in shares])
        sentence = rng.choice(by_source[source])
        if sentence not in out:
            out.append(sentence)
    return out


def generate_notes(n: int, seed: int | None = None,
                   background: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
    """``n`` notes of the part, deterministic by seed (``SEED`` by default).

    ``background``: PHI-free sentences by source to insert (default: the corpora's aside half); ``{}``
    writes the notes without them.
    """
    if background is None:
        background = background_pool()
        if not any(background.values()):
            log.warning("public corpora not found: aside3 notes are written without real background sentences")
    seed = SEED if seed is None else seed
    notes = []
    for i in range(n):
        rng = Random(f"nursing-aside3:{seed}:{i}")
        chosen = _sample_background(rng, background, rng.randint(1, 3))
        w, layout = _write_note(rng, chosen)
        notes.append({"note_id": f"{PART}-{i}", "person_id": i, "note_date": w.note_date.isoformat(), "part": PART,
                      "case": w.case, "layout": layout, "text": "".join(w.parts), "phi": w.phi,
                      "negatives": w.negatives})
    return notes
