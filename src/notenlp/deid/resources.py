"""The de-identifier's data: lexicons, cue lists and PHI patterns, loaded once per process."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from notenlp.resources import resource_path


def _words(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


@dataclass(frozen=True)
class Lexicons:
    first_names: frozenset[str]
    last_names: frozenset[str]
    first_name_list: tuple[str, ...]  # frequency order: surrogates draw from it
    last_name_list: tuple[str, ...]
    cities: frozenset[str]
    city_list: tuple[str, ...]
    states: frozenset[str]
    countries: frozenset[str]
    medical_words: frozenset[str]
    eponyms: frozenset[str]
    clinical_words: frozenset[str]
    stop_words: frozenset[str]
    english_words: frozenset[str]  # ordinary words that are not common first names or surnames
    max_place_tokens: int
    # ICU shorthand, drug and device nicknames, units of care: never a name or place, whatever the cue.
    shorthand: frozenset[str] = frozenset()
    # Clinical abbreviations (lower-cased) and words of the loaded concept names: known words, not names.
    abbreviations: frozenset[str] = frozenset()
    word_zipf: dict[str, float] = field(default_factory=dict)  # English word frequency (wordfreq, Zipf scale)
    name_rank: dict[str, int] = field(default_factory=dict)  # best Census frequency rank as first or last name

    def is_name_word(self, lower: str) -> bool:
        """A Census name that is an everyday word ("way", "chance", "pleasant"): a cue must make it a name.

        wordfreq counts names too ("smith" 3.9), so only a frequency above every common surname counts."""
        return self.word_zipf.get(lower, 0.0) >= 4.0

    def is_frequent_word(self, lower: str) -> bool:
        """A very frequent word or the plural / 3rd person of one ("states", "gave", "way")."""
        zipf = self.word_zipf.get(lower, 0.0)
        return zipf >= 5.0 or (lower.endswith("s") and self.word_zipf.get(lower[:-1], 0.0) >= 4.0)

    def is_known_word(self, lower: str) -> bool:
        """A word some vocabulary holds: English, clinical, shorthand, abbreviation or concept-name word."""
        return self.is_common_word(lower) or lower in self.shorthand or lower in self.abbreviations

    def is_common_word(self, lower: str) -> bool:
        """A word that is not a name by lexicon alone."""
        return (lower in self.stop_words or lower in self.clinical_words or lower in self.medical_words
                or lower in self.eponyms or lower in self.english_words or lower in self.shorthand)

    def is_clinical_word(self, lower: str) -> bool:
        """A word that is not a place by lexicon alone (English words may still be towns: "Reading")."""
        return (lower in self.stop_words or lower in self.clinical_words or lower in self.medical_words
                or lower in self.eponyms or lower in self.shorthand)


# Resource folders besides the lexicon directory itself that the lexicons are built from (``_abbreviations``,
# ``_concept_words``): every file in them is part of the cache key (a test checks a build reads no other file).
LEXICON_SOURCE_FOLDERS = ("vocab", "demo_vocab")


def lexicon_inputs(directory: str = "deid") -> list[Path]:
    """Every file the lexicons of ``directory`` may be built from."""
    roots = [resource_path(directory), *(resource_path(folder) for folder in LEXICON_SOURCE_FOLDERS)]
    return sorted(path for root in roots for path in root.rglob("*") if path.is_file())


@lru_cache(maxsize=4)
def load_lexicons(directory: str = "deid") -> Lexicons:
    """The lexicons, read from the on-disk cache (:mod:`notenlp.cache`) under a hash of every input file and of
    this module: unpickling them costs about half of parsing the word lists, frequencies and Census ranks."""
    from notenlp import cache

    key = cache.content_key(cache.source_bytes(__name__), directory,
                            *(part for path in lexicon_inputs(directory) for part in (str(path), path.read_bytes())))
    return cache.cached("deid-lexicons", f"lexicons-{key}", lambda: build_lexicons(directory))


def build_lexicons(directory: str = "deid") -> Lexicons:
    root = resource_path(directory)
    lex = root / "lexicons"
    first = _words(lex / "first_names.txt")
    last = _words(lex / "last_names.txt")
    cities = _words(lex / "cities.txt")
    states = _words(lex / "states.txt")
    countries = _words(lex / "countries.txt")
    places = cities + states + countries
    return Lexicons(
        first_names=frozenset(first),
        last_names=frozenset(last),
        first_name_list=tuple(first[:2000]),
        last_name_list=tuple(last[:5000]),
        cities=frozenset(cities),
        city_list=tuple(c for c in cities[:3000] if c.isascii() and " " not in c.strip() or c.count(" ") == 1),
        states=frozenset(states),
        countries=frozenset(countries),
        medical_words=frozenset(_words(lex / "medical_words.txt")),
        eponyms=frozenset(_words(root / "eponyms.txt")),
        clinical_words=frozenset(_words(root / "clinical_words.txt")),
        stop_words=frozenset(_words(lex / "stop_words.txt")),  # spaCy's; a file, so that no start imports spaCy
        english_words=frozenset(gzip.decompress((lex / "english_words.txt.gz").read_bytes()).decode().split()),
        max_place_tokens=max(len(p.split()) for p in places),
        shorthand=frozenset(_words(root / "icu_shorthand.txt")),
        word_zipf={word: float(zipf) for word, zipf in (line.split("\t") for line in gzip.decompress(
            (lex / "word_frequencies.txt.gz").read_bytes()).decode().splitlines())},
        name_rank=_name_ranks(first, last),
        abbreviations=frozenset(_abbreviations()) | _concept_words(),
    )


def _name_ranks(first: list[str], last: list[str]) -> dict[str, int]:
    """Best frequency rank of each Census name (first names: the female and the male list interleaved)."""
    ranks: dict[str, int] = {}
    for rank, name in enumerate(last):
        ranks.setdefault(name, rank)
    for rank, name in enumerate(first):
        ranks[name] = min(ranks.get(name, rank), rank)
    return ranks


def _abbreviations() -> list[str]:
    """Single-token clinical abbreviations (``vocab/abbreviations.json``) and the dose units, dose forms and
    salts of ``vocab/drugs.json`` ("chew", "tab", "hcl"), lower-cased."""
    spec = json.loads(resource_path("vocab", "abbreviations.json").read_text(encoding="utf-8"))
    drugs = json.loads(resource_path("vocab", "drugs.json").read_text(encoding="utf-8"))
    words = [*spec["abbreviations"], *drugs["units"], *drugs["forms"], *drugs["salts"]]
    return [w.lower() for w in words if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", w)]


def _concept_words() -> frozenset[str]:
    """Words of the demo vocabulary's concept names (the words OMOP normalisation knows)."""
    import csv

    path = resource_path("demo_vocab", "CONCEPT.csv.gz")
    if not path.exists():
        return frozenset()
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        names = " ".join(row["concept_name"] for row in csv.DictReader(handle, delimiter="\t"))
    return frozenset(w for w in re.findall(r"[a-z][a-z]+", names.lower()) if len(w) > 2)


@lru_cache(maxsize=4)
def load_context(name: str = "deid/context.json") -> dict:
    return json.loads(resource_path(*name.split("/")).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    type: str
    subtype: str
    span_group: str | None  # the group that is the PHI; None: the whole match
    requires: tuple[str, ...]  # the pattern runs only when the lower-cased text holds one of these
    before: re.Pattern[str] | None  # context the text just before a match must end with
    # True when ``regex`` is the fast first-character form (see ``anchor_on_first_char``): each of its
    # matches is one character, the pattern's own match is the WHOLE group, and matches starting
    # inside the previous one must be skipped to keep ``finditer``'s non-overlapping order.
    anchored: bool = False
    name: str = ""


WHOLE = "phi_whole"
# Characters that match an ASCII letter under re.IGNORECASE besides its two ASCII cases.
_FOLD_EXTRAS = {"i": "\u0130\u0131", "k": "\u212a", "s": "\u017f"}


def anchor_on_first_char(regex: str, first: str) -> str:
    """``regex`` rewritten so that re's search loop skips straight to characters of the class ``first``.

    re only has a fast scan when a pattern starts with a plain character class; patterns that start
    with a look-behind or ``\\b`` are tried at every position, which dominated de-identification time.
    The rewrite consumes one ``first`` character, then steps back inside a look-behind and runs the
    original pattern in a look-ahead that captures its match as the WHOLE group. ``first`` must hold
    every character a match can start with (any case: letters are widened to all their case forms).
    """
    letters = {ch.lower() for ch in re.sub(r"\\.", "", first) if ch.isascii() and ch.isalpha()}
    widened = first + "".join(sorted(letters)) + "".join(sorted(ch.upper() for ch in letters)) \
        + "".join(_FOLD_EXTRAS.get(ch, "") for ch in sorted(letters))
    return f"[{widened}](?<=(?=(?P<{WHOLE}>(?i:{regex})))[\\s\\S])"


def expand_macros(regex: str, macros: dict[str, str]) -> str:
    for key, value in macros.items():
        regex = regex.replace("{" + key + "}", value)
    return regex


@lru_cache(maxsize=8)
def load_patterns(name: str = "deid/patterns.json", options: frozenset[str] = frozenset()) -> tuple[Pattern, ...]:
    """Every enabled pattern, compiled, in file order (the order breaks ties between equal spans)."""
    from notenlp import regex_cache  # here: importing this module (as Presidio's baseline does) stays as cheap
    spec = json.loads(resource_path(*name.split("/")).read_text(encoding="utf-8"))
    patterns = []
    for pattern in spec["patterns"]:
        if pattern.get("optional") and pattern["optional"] not in options:
            continue
        source = expand_macros(pattern["regex"], spec.get("macros", {}))
        first = pattern.get("first")
        regex = (regex_cache.compile(anchor_on_first_char(source, first)) if first
                 else regex_cache.compile(source, re.IGNORECASE))
        span_group = "span" if "span" in regex.groupindex else None
        before = pattern.get("before")
        patterns.append(Pattern(regex, pattern["type"], pattern["subtype"], span_group,
                                tuple(pattern.get("requires", ())),
                                re.compile(f"(?:{before})$", re.IGNORECASE) if before else None, bool(first),
                                pattern.get("name", "")))
    return tuple(patterns)
