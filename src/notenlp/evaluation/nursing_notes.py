"""Realistic de-identification benchmark: ICU nursing / progress notes with planted surrogate PHI.

The demo gold and Presidio's synthetic sentences did not predict how the de-identifier does on real
nursing notes (issue #21): real notes are telegraphic, all lower case or ALL CAPS, full of shorthand,
drug nicknames, vitals and ratios, and their names sit after cues the demo never writes ("dtr called",
"wife mary", "per dr smith"). This module writes such notes with exact gold spans:

- telegraphic clinical lines ("levo @ .1", "fent gtt", "aline", "500x12", "5/5 strength", "ie 1:2",
  run-on "well.no") that hold no PHI and bait false alarms;
- lines with planted surrogate PHI in every cue style (patient, family/proxy and clinician names, dates
  full / m/d / two-digit years, hospitals and their abbreviations, wards, facilities, towns, phones full /
  partial / area code / extension / pager, ages over 89, MRNs); names are Title, lower or UPPER case and
  a share of them are also English words ("Rose", "Bill", "Hill");
- real PHI-free clinical sentences between the lines: NegEx sentences (de-identified clinical reports;
  the 135 of 1,096 that carry the reports' de-identification markers around surrogates, ``**DATE[...]``,
  ``**NAME[...]``, ``___``, are left out), ADE corpus negative sentences and BC5CDR abstract sentences
  (PubMed) from ``../shared/corpora``; without the corpora the notes are written without them (a warning
  says so).

Every note is one case style: lower (35%), UPPER (20%) or mixed (45%, where names still vary in case).

Three parts, kept apart:
- ``dev``: the tuning part (seed ``DEV_SEED``).
- ``aside``: NOT USED FOR TUNING. Its own seed (``ASIDE_SEED``), its own templates, headers, hospitals,
  wards, facilities, towns and English-word names (``resources/deid_benchmark/nursing_notes.json``,
  ``parts.aside``), its own third of the Census name pools (``name_part``) and its own half of the
  background sentences (``sentence_part``). Read its totals, never its single errors, when tuning.
  (Its per-subtype table has been read while tuning, so it is no longer a clean held-out figure.)
- ``aside2``: NEVER USED FOR TUNING, read only as a final measurement. Its own seed (``ASIDE2_SEED``),
  templates, headers and pools, and pools the de-identifier does not ship: a share of its person names
  (``UNLISTED_NAME_RATE``) are in neither Census list of ``resources/deid/lexicons`` (``unlisted_first``,
  ``unlisted_last``), the rest are Census names below the frequency ranks the other parts draw; its towns
  are in none of the de-identifier's place lists and its English-word names are none of the
  de-identifier's ``cued_only_names`` (tests check all three). It draws background sentences from the
  aside half (different sentences by its own seed; PHI-free, so they add false alarms, not recall).

``phi_free_documents(part)`` is the damage set: real clinical sentences only (no planted PHI), so every
token a de-identifier replaces there is a false alarm.

Public API (stable): ``PARTS``, ``KEPT_ASIDE``, ``DAMAGE_PARTS``, ``DEV_SEED``, ``ASIDE_SEED``, ``ASIDE2_SEED``, ``generate_notes(part, n, seed=None,
background=None)``, ``phi_free_documents(part, n_docs, seed=None)``, ``background_sentences(part)``,
``name_part(name)``, ``sentence_part(sentence)``, ``damage_part(part)``, ``load_templates()``, ``PHI_KINDS``.
A note is ``{"note_id", "person_id", "note_date", "part", "case", "text", "phi": [{"start", "end", "type",
"subtype", "text", "case", "english_word"}]}``, the shape of the demo gold.jsonl.
"""

from __future__ import annotations

import logging
import re
import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from random import Random
from typing import Any

from notenlp.resources import resource_path

log = logging.getLogger(__name__)

PARTS = ("dev", "aside", "aside2")
KEPT_ASIDE = ("aside", "aside2")  # never tuned on; aside2 is read only as a final measurement
DAMAGE_PARTS = ("dev", "aside")  # the two halves of the background sentences (aside2 reads the aside half)
DEV_SEED = 21
ASIDE_SEED = 2108  # never the dev seed: the aside part shares no random stream with dev
ASIDE2_SEED = 6637
_SEEDS = {"dev": DEV_SEED, "aside": ASIDE_SEED, "aside2": ASIDE2_SEED}
_SENTENCE_HALF = {"dev": "dev", "aside": "aside", "aside2": "aside"}
TEMPLATES = "deid_benchmark/nursing_notes.json"
# Census pools: the most frequent names only (surrogates in real notes are common names).
FIRST_NAME_POOL = 1200
LAST_NAME_POOL = 3000
ENGLISH_WORD_NAME_RATE = 0.2  # share of planted names drawn from the part's English-word names
# aside2: share of names drawn from names the de-identifier's lexicons do not hold (``unlisted_*``); the
# rest from the Census ranks just below the other parts' pools (the next FIRST_NAME_POOL / 2 x LAST_NAME_POOL).
UNLISTED_NAME_RATE = 0.35
# Real nursing notes hold little PHI among much shorthand (about one false alarm per true hit in issue #21):
# many notes carry none or one PHI line.
PHI_LINES_PER_NOTE = ((0, 0.2), (1, 0.25), (2, 0.2), (3, 0.15), (4, 0.1), (5, 0.05), (6, 0.05))
CASE_STYLES = (("lower", 0.35), ("upper", 0.20), ("mixed", 0.45))
NAME_CASES_IN_MIXED = (("title", 0.65), ("lower", 0.25), ("upper", 0.10))

# Template slot -> gold subtype (type = the part before the dot).
PHI_KINDS: dict[str, str] = {
    "PFIRST": "NAME.PATIENT", "PLAST": "NAME.PATIENT", "PFULL": "NAME.PATIENT",
    "FAM": "NAME.FAMILY", "FAMFULL": "NAME.FAMILY",
    "DR": "NAME.CLINICIAN", "DRFULL": "NAME.CLINICIAN", "RN": "NAME.CLINICIAN", "RNL": "NAME.CLINICIAN",
    "RNFULL": "NAME.CLINICIAN",
    "DATE": "DATE.FULL", "MD": "DATE.PARTIAL", "MONTHDAY": "DATE.PARTIAL", "YY": "DATE.YEAR2",
    "YYQ": "DATE.YEAR2", "YEAR": "DATE.YEAR",
    "HOSP": "LOCATION.HOSPITAL", "HABBR": "LOCATION.HOSPITAL_ABBR", "UNIT": "LOCATION.UNIT",
    "FACILITY": "LOCATION.FACILITY", "CITY": "LOCATION.CITY",
    "PHONE": "PHONE.FULL", "PHONE7": "PHONE.PARTIAL", "AREA": "PHONE.AREA_CODE", "EXT": "PHONE.EXTENSION",
    "PAGER": "PHONE.PAGER",
    "AGE": "AGE.OVER_89", "MRN": "ID.MRN",
}
_DEID_MARKER = re.compile(r"\*\*|_{3,}")
_SLOT = re.compile(r"\{([^{}]*)\}")
_RANGE = re.compile(r"(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_DATE_FORMATS = ("{M}/{D}/{YYYY}", "{MM}/{DD}/{YY}", "{M}/{D}/{YY}", "{YYYY}-{MM}-{DD}", "{Mon} {D}, {YYYY}",
                 "{D} {Mon} {YYYY}", "{M}-{D}-{YYYY}", "{Month} {D} {YYYY}")
_MONTH_DAY_FORMATS = ("{Mon} {D}", "{Month} {D}{th}", "{Mon}. {D}", "{Month} {D}")
_SEPARATORS_RUN_ON = ((". ", 0.45), (", ", 0.2), (".", 0.15), (" - ", 0.1), ("; ", 0.1))


def _weighted(rng: Random, options) -> Any:
    roll, total = rng.random(), 0.0
    for value, weight in options:
        total += weight
        if roll < total:
            return value
    return options[-1][0]


def _crc(text: str) -> int:
    return zlib.crc32(text.strip().lower().encode("utf-8"))


@lru_cache(maxsize=2)
def load_templates(name: str = TEMPLATES) -> dict[str, Any]:
    import json

    return json.loads(resource_path(*name.split("/")).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _listed_name_parts() -> dict[str, str]:
    parts = load_templates()["parts"]
    # dev and aside only: listing aside2's names here would move Census names out of their pools
    return {w.lower(): part for part in ("dev", "aside") for w in parts[part]["first_words"] + parts[part]["last_words"]}


def name_part(name: str) -> str:
    """The part a name belongs to (dev or aside): their English-word names as listed, else one third aside by hash.

    (aside2's names are told apart by frequency rank and its own lists instead: see ``_pools``.)"""
    key = name.strip().lower()
    listed = _listed_name_parts().get(key)
    if listed is not None:
        return listed
    return "aside" if _crc(key) % 3 == 0 else "dev"


def damage_part(part: str) -> str:
    """The half of the background sentences (one of ``DAMAGE_PARTS``) a part's damage is measured on."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, not {part!r}")
    return _SENTENCE_HALF[part]


def sentence_part(sentence: str) -> str:
    """The half a background sentence belongs to ("dev" or "aside"): half and half by a hash of its text."""
    return "aside" if _crc(sentence) % 2 else "dev"


@dataclass(frozen=True)
class _Pools:
    first: tuple[str, ...]
    last: tuple[str, ...]
    first_words: tuple[str, ...]
    last_words: tuple[str, ...]
    spec: dict[str, Any]
    unlisted_first: tuple[str, ...] = ()  # names the de-identifier's lexicons do not hold (aside2)
    unlisted_last: tuple[str, ...] = ()


def _census(name: str, count: int) -> list[str]:
    """The ``count`` most frequent names of a Census list in ``resources/deid/lexicons``."""
    names = []
    with resource_path("deid", "lexicons", name).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip() and not line.startswith("#"):
                names.append(line.strip())
                if len(names) == count:
                    break
    return names


@lru_cache(maxsize=4)
def _pools(part: str) -> _Pools:
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, not {part!r}")
    spec = load_templates()["parts"][part]
    # Read from the Census files themselves, not the de-identifier's Lexicons: tuning the detector must
    # not change the benchmark.
    if part == "aside2":  # Census ranks below the other parts' pools, minus any name another part lists
        taken = {n.lower() for other in ("dev", "aside") for pool in (_pools(other).first, _pools(other).last,
                                                                        _pools(other).first_words,
                                                                        _pools(other).last_words) for n in pool}
        taken |= set(_listed_name_parts())

        def own(names) -> tuple[str, ...]:
            return tuple(n.title() for n in names if n.lower() not in taken)

        return _Pools(own(_census("first_names.txt", 2 * FIRST_NAME_POOL)[FIRST_NAME_POOL:]),
                      own(_census("last_names.txt", 3 * LAST_NAME_POOL)[LAST_NAME_POOL:]),
                      own(spec["first_words"]), own(spec["last_words"]), spec,
                      own(spec["unlisted_first"]), own(spec["unlisted_last"]))
    first = tuple(n.title() for n in _census("first_names.txt", FIRST_NAME_POOL) if name_part(n) == part)
    last = tuple(n.title() for n in _census("last_names.txt", LAST_NAME_POOL) if name_part(n) == part)
    return _Pools(first, last, tuple(spec["first_words"]), tuple(spec["last_words"]), spec)


# --------------------------------------------------------------------------- background sentences
@lru_cache(maxsize=1)
def _all_background() -> tuple[tuple[str, str], ...]:
    """(source, sentence) of every PHI-free real sentence in the corpora; () when they are absent."""
    from notenlp.corpora import corpora_dir, corpus_path

    if corpora_dir() is None:
        return ()
    out: list[tuple[str, str]] = []
    negex = corpus_path("negex", "negex_dev.tsv")
    if negex is not None:
        from notenlp.evaluation.assertion import read_negex

        out += [("negex", s) for s in dict.fromkeys(case.text.strip() for case in read_negex(negex)[0]) if s]
    ade = corpus_path("ade-corpus-v2", "ADE-NEG.txt")
    if ade is not None:
        sentences = (line.partition(" NEG ")[2].strip() for line in ade.read_text(encoding="utf-8").splitlines())
        out += [("ade", s) for s in dict.fromkeys(sentences) if s]
    cdr = corpus_path("bc5cdr", "CDR_DevelopmentSet.PubTator.txt")
    if cdr is not None:
        from notenlp.annotate.sentences import SentenceSplitter
        from notenlp.doc import Doc
        from notenlp.ner.corpora import BC5CDR_LABELS, read_pubtator

        splitter = SentenceSplitter()
        sentences = []
        for abstract in read_pubtator(cdr, BC5CDR_LABELS):
            doc = splitter(Doc(abstract.text))
            sentences += [abstract.text[s.start:s.end].strip() for s in doc.sentences]
        out += [("bc5cdr", s) for s in dict.fromkeys(sentences) if len(s) > 20]
    # NegEx reports were de-identified with markers that wrap surrogates ("**DATE[Nov 03 2007]",
    # "**NAME[YYY ZZZ]", "___"): those sentences hold PHI (surrogate) and are not background.
    return tuple((source, s) for source, s in out if not _DEID_MARKER.search(s))


def background_sentences(part: str) -> dict[str, list[str]]:
    """The part's PHI-free real sentences by source (negex, ade, bc5cdr); empty lists without corpora."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, not {part!r}")
    by_source: dict[str, list[str]] = {"negex": [], "ade": [], "bc5cdr": []}
    for source, sentence in _all_background():
        if sentence_part(sentence) == _SENTENCE_HALF[part]:
            by_source[source].append(sentence)
    return by_source


def _mixed_sample(rng: Random, by_source: dict[str, list[str]], n: int) -> list[tuple[str, str]]:
    """n sentences, about half NegEx (clinical) and a quarter each ADE and BC5CDR (PubMed), no repeats."""
    shares = [(source, share) for source, share in (("negex", 0.5), ("ade", 0.25), ("bc5cdr", 0.25))
              if by_source.get(source)]
    total = sum(share for _, share in shares)
    out: list[tuple[str, str]] = []
    used: set[tuple[str, int]] = set()
    capacity = sum(len(by_source[source]) for source, _ in shares)
    while shares and len(out) < min(n, capacity):
        source = _weighted(rng, [(source, share / total) for source, share in shares])
        index = rng.randrange(len(by_source[source]))
        if (source, index) not in used:
            used.add((source, index))
            out.append((source, by_source[source][index]))
    return out


def phi_free_documents(part: str, n_docs: int = 120, seed: int | None = None) -> list[dict[str, Any]]:
    """Documents of 3..6 real clinical sentences (no planted PHI); [] when the corpora are absent.

    ``part``: one of ``DAMAGE_PARTS``, the two halves of the sentences."""
    if part not in DAMAGE_PARTS:
        raise ValueError(f"part must be one of {DAMAGE_PARTS}, not {part!r}")
    rng = Random(f"phi-free:{part}:{seed if seed is not None else _seed(part)}")
    sizes = [rng.randint(3, 6) for _ in range(n_docs)]
    sentences = _mixed_sample(rng, background_sentences(part), sum(sizes))
    docs, cursor = [], 0
    for i, size in enumerate(sizes):
        chunk = sentences[cursor:cursor + size]
        cursor += size
        if not chunk:
            break
        joiner = "\n" if rng.random() < 0.3 else " "
        docs.append({"note_id": f"{part}-free-{i}", "person_id": None, "note_date": None, "part": part,
                     "sources": sorted({source for source, _ in chunk}),
                     "text": joiner.join(s for _, s in chunk), "phi": []})
    return docs


# --------------------------------------------------------------------------- notes
def _seed(part: str) -> int:
    return _SEEDS[part]


@dataclass
class _Note:
    rng: Random
    pools: _Pools
    case: str  # lower | upper | mixed
    note_date: date
    patient: tuple[str, str, bool]  # first, last, english word
    family: list[tuple[str, str, bool]]
    clinicians: list[tuple[str, str, bool]]
    parts: list[str] = field(default_factory=list)
    pos: int = 0
    phi: list[dict[str, Any]] = field(default_factory=list)

    def cased(self, text: str) -> str:
        if self.case == "lower":
            return text.lower()
        if self.case == "upper":
            return text.upper()
        return text

    def add(self, text: str) -> None:
        text = self.cased(text)
        self.parts.append(text)
        self.pos += len(text)

    def add_phi(self, text: str, subtype: str, case: str, english_word: bool) -> None:
        if self.case != "mixed":
            case = self.case
        text = {"lower": text.lower(), "upper": text.upper()}.get(case, text)
        phi = {"start": self.pos, "end": self.pos + len(text), "type": subtype.split(".")[0],
               "subtype": subtype, "text": text, "case": case, "english_word": english_word}
        if phi["type"] == "NAME" and self.pools.unlisted_first and any(
                word in self.pools.unlisted_first or word in self.pools.unlisted_last for word in text.title().split()):
            phi["unlisted"] = True  # a name the de-identifier's lexicons do not hold
        self.phi.append(phi)
        self.parts.append(text)
        self.pos += len(text)


def _person(rng: Random, pools: _Pools) -> tuple[str, str, bool]:
    """(first, last, whether either is an English word)."""
    word_first = rng.random() < ENGLISH_WORD_NAME_RATE
    word_last = rng.random() < ENGLISH_WORD_NAME_RATE * 0.75
    first = rng.choice(pools.first_words if word_first else pools.first)
    last = rng.choice(pools.last_words if word_last else pools.last)
    if pools.unlisted_first:  # aside2: some names no lexicon of the de-identifier holds
        if not word_first and rng.random() < UNLISTED_NAME_RATE:
            first = rng.choice(pools.unlisted_first)
        if not word_last and rng.random() < UNLISTED_NAME_RATE:
            last = rng.choice(pools.unlisted_last)
    return first, last, word_first or word_last


def _date_fields(day: date) -> dict[str, str]:
    suffix = "th" if 11 <= day.day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day.day % 10, "th")
    return {"YYYY": f"{day.year}", "YY": f"{day.year % 100:02d}", "MM": f"{day.month:02d}", "M": f"{day.month}",
            "DD": f"{day.day:02d}", "D": f"{day.day}", "Mon": _MONTHS[day.month - 1][:3],
            "Month": _MONTHS[day.month - 1], "th": suffix}


def _phi_value(s: _Note, kind: str) -> tuple[str, str, bool]:
    """(text, case in a mixed note, English word) of one planted value."""
    rng, pools = s.rng, s.pools
    name_case = _weighted(rng, NAME_CASES_IN_MIXED)
    first, last, word = s.patient
    if kind in ("PFIRST", "PLAST", "PFULL"):
        text = {"PFIRST": first, "PLAST": last, "PFULL": f"{first} {last}"}[kind]
        word = (first in pools.first_words and kind != "PLAST") or (last in pools.last_words and kind != "PFIRST")
        return text, name_case, word
    if kind in ("FAM", "FAMFULL"):
        f_first, f_last, _ = rng.choice(s.family)
        text = f_first if kind == "FAM" else f"{f_first} {f_last}"
        word = f_first in pools.first_words or (kind == "FAMFULL" and f_last in pools.last_words)
        return text, name_case, word
    if kind in ("DR", "DRFULL", "RN", "RNL", "RNFULL"):
        c_first, c_last, _ = rng.choice(s.clinicians)
        text = {"DR": c_last, "RNL": c_last, "RN": c_first}.get(kind, f"{c_first} {c_last}")
        word = (c_first in pools.first_words and kind not in ("DR", "RNL")) or (
            c_last in pools.last_words and kind != "RN")
        return text, name_case, word
    place_case = "lower" if rng.random() < 0.3 else "as written"
    if kind in ("HOSP", "HABBR"):
        full, abbreviation = rng.choice(pools.spec["hospitals"])
        return (full if kind == "HOSP" else abbreviation), place_case, False
    if kind in ("UNIT", "FACILITY", "CITY"):
        return rng.choice(pools.spec[{"UNIT": "units", "FACILITY": "facilities", "CITY": "cities"}[kind]]), \
            place_case, False
    if kind == "DATE":
        day = s.note_date - timedelta(days=rng.randint(1, 365 * 40 if rng.random() < 0.3 else 400))
        return rng.choice(_DATE_FORMATS).format(**_date_fields(day)), "as written", False
    if kind in ("MD", "MONTHDAY"):
        day = s.note_date - timedelta(days=rng.randint(0, 20))
        fields = _date_fields(day)
        if kind == "MD":
            return f"{fields['M']}{'/' if rng.random() < 0.6 else '-'}{fields['D']}", "as written", False
        return rng.choice(_MONTH_DAY_FORMATS).format(**fields), name_case, False
    if kind in ("YY", "YYQ"):
        year = rng.randint(1950, 1999) if rng.random() < 0.85 else rng.randint(2000, min(2009, s.note_date.year - 1))
        return (f"'{year % 100:02d}" if kind == "YYQ" else f"{year % 100:02d}"), "as written", False
    if kind == "YEAR":
        return str(rng.randint(1985, s.note_date.year - 1)), "as written", False
    area = rng.choice(load_templates()["area_codes"])
    exchange, line = rng.randint(200, 999), rng.randint(0, 9999)
    if kind == "PHONE":
        form = rng.choice(("{a}-{e}-{l:04d}", "({a}) {e}-{l:04d}", "{a}.{e}.{l:04d}", "{a} {e} {l:04d}",
                           "({a}){e}-{l:04d}"))
        return form.format(a=area, e=exchange, l=line), "as written", False
    if kind == "PHONE7":
        return f"{exchange}-{line:04d}", "as written", False
    if kind == "AREA":
        return area, "as written", False
    if kind == "EXT":
        return f"{rng.randint(1000, 9999)}", "as written", False
    if kind == "PAGER":
        return f"{rng.randint(1000, 99999)}", "as written", False
    if kind == "AGE":
        return str(rng.randint(90, 104)), "as written", False
    if kind == "MRN":
        return str(rng.randint(1_000_000, 99_999_999)), "as written", False
    raise ValueError(f"unknown PHI slot {kind!r}")


def _fill(s: _Note, template: str) -> None:
    """Write a template: literals in the note's case, PHI slots as gold spans."""
    cursor = 0
    for m in _SLOT.finditer(template):
        s.add(template[cursor:m.start()])
        cursor = m.end()
        content = m.group(1)
        if content in PHI_KINDS:
            text, case, word = _phi_value(s, content)
            s.add_phi(text, PHI_KINDS[content], case if case in ("lower", "upper", "title") else "as written", word)
        elif "|" in content:
            s.add(s.rng.choice(content.split("|")))
        elif (r := _RANGE.fullmatch(content)) is not None:
            low, high = r.groups()
            if "." in low:
                decimals = len(low.split(".")[1])
                s.add(f"{s.rng.uniform(float(low), float(high)):.{decimals}f}")
            else:
                value = s.rng.randint(int(low), int(high))
                s.add(f"{value:0{len(low)}d}" if low.startswith("0") else str(value))
        else:
            raise ValueError(f"template slot {{{content}}} is neither a PHI kind, a choice nor a range")
    s.add(template[cursor:])


def _write_note(rng: Random, pools: _Pools, background: list[tuple[str, str]]) -> _Note:
    note_date = date(2005, 1, 1) + timedelta(days=rng.randint(0, 15 * 365))
    family = [_person(rng, pools) for _ in range(rng.randint(1, 3))]
    s = _Note(rng=rng, pools=pools, case=_weighted(rng, CASE_STYLES), note_date=note_date,
              patient=_person(rng, pools), family=family, clinicians=[_person(rng, pools) for _ in range(3)])
    spec = pools.spec
    items = [("phi", t) for t in rng.sample(spec["phi_lines"], _weighted(rng, PHI_LINES_PER_NOTE))]
    items += [("clinical", t) for t in rng.sample(spec["clinical_lines"], rng.randint(6, 16))]
    items += [("background", sentence) for _, sentence in background]
    rng.shuffle(items)
    by_line = rng.random() < 0.5
    sections = load_templates()["sections"]
    if rng.random() < 0.7:
        _fill(s, rng.choice(spec["headers"]))
        s.add("\n")
    for index, (kind, template) in enumerate(items):
        if index:
            separator = "\n" if by_line else _weighted(rng, _SEPARATORS_RUN_ON)
            if separator[0] in ".;," and s.parts[-1][-1:] in (".", "!", "?", ":", ";"):
                separator = " "  # a background sentence already ends in punctuation
            s.add(separator)
        if by_line and rng.random() < 0.25:
            s.add(rng.choice(sections) + " ")
        if kind == "background":
            s.add(template)
        else:
            if s.case == "mixed" and template[:1].isalpha() and rng.random() < 0.5:
                template = template[0].upper() + template[1:]  # a line starts with a capital ("Levo @ .1")
            _fill(s, template)
    return s


def generate_notes(part: str, n: int, seed: int | None = None,
                   background: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
    """``n`` notes of one part, deterministic by (part, seed); the part's own seed by default.

    ``background``: PHI-free sentences by source to insert (default: ``background_sentences(part)``);
    pass ``{}`` to write notes without them.
    """
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, not {part!r}")
    pools = _pools(part)
    if background is None:
        background = background_sentences(part)
        if not any(background.values()):
            log.warning("public corpora not found: benchmark notes are written without real background sentences")
    seed = _seed(part) if seed is None else seed
    notes = []
    for i in range(n):
        rng = Random(f"nursing:{part}:{seed}:{i}")
        chosen = _mixed_sample(rng, background, rng.randint(1, 3)) if any(background.values()) else []
        s = _write_note(rng, pools, chosen)
        notes.append({"note_id": f"{part}-{i}", "person_id": i, "note_date": s.note_date.isoformat(), "part": part,
                      "case": s.case, "text": "".join(s.parts), "phi": s.phi})
    return notes
