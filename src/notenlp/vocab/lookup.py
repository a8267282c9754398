"""Finding the compiled dictionary, and choosing one concept among a key's candidates.

Both the matcher and the normalizer resolve through ``Lookup``: drug strength/form after a
drug name picks the RxNorm product; abbreviations pick a sense by nearby words and section;
the label decides which domains are allowed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from notenlp.doc import Doc
from notenlp import cache
from notenlp.fingerprints import DICTIONARY_DIR, fingerprint_files
from notenlp.resources import file_or_resource, resource_path
from notenlp.vocab import drugs, loader
from notenlp.vocab.dictionary import PRODUCT_CLASSES, Candidate, Dictionary, compile_dictionary

log = logging.getLogger(__name__)

SCORES = {"name": 1.0, "synonym": 1.0, "lay": 0.95, "abbreviation": 0.95, "variant": 0.95, "abbreviated": 0.9,
          "brand": 0.9, "ingredient": 0.9, "strength": 1.0}
RESOLVED_CACHE_SIZE = 200_000
AMBIGUOUS_PRODUCT_SCORE = 0.75  # an ingredient written alone when only its products are in the vocabulary


@dataclass(frozen=True)
class Labels:
    domains: dict[str, str]
    observation_classes: dict[str, str]
    short_token_max: int

    def label(self, candidate: Candidate) -> str | None:
        if candidate.domain_id == "Observation":
            return self.observation_classes.get(candidate.concept_class_id)
        return self.domains.get(candidate.domain_id)


@lru_cache(maxsize=1)
def labels() -> Labels:
    raw = json.loads(resource_path("vocab", "labels.json").read_text(encoding="utf-8"))
    return Labels(raw["domains"], raw["observation_classes"], int(raw["short_token_max"]))


def cache_dir() -> Path:
    return cache.cache_dir("vocab")


def _compiler_inputs() -> list[Path]:
    here = Path(__file__).resolve().parent
    return [*resource_path("vocab").glob("*.json"), here / "dictionary.py", here / "text.py", here / "drugs.py"]


def demo_dictionary_path() -> Path:
    """The dictionary of the shipped demo vocabulary (+ ICD-10-CM), compiled once into the cache."""
    inputs = [*loader.DEMO_VOCAB_DIR.glob("*.csv.gz"), *_compiler_inputs()]
    out = cache_dir() / f"demo-dictionary-{fingerprint_files(inputs)}.parquet"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="notenlp-demo-vocab-") as tmp:
            warehouse = Path(tmp) / "vocab.duckdb"
            loader.load_demo(warehouse)
            partial = Path(tmp) / out.name
            compile_dictionary(warehouse, partial)
            os.replace(partial, out)  # atomic: parallel workers never read a half-written file
    return out


VOCABULARY_CONTENT_SQL = (
    "select count(*), coalesce(sum(hash(concept_id, concept_name, domain_id, standard_concept, invalid_reason)), 0) "
    "from concept",
    "select count(*), coalesce(sum(hash(concept_id, concept_synonym_name)), 0) from concept_synonym",
    "select count(*), coalesce(sum(hash(concept_id_1, concept_id_2, relationship_id, invalid_reason)), 0) "
    "from concept_relationship",
)


def vocabulary_key(con) -> str:
    """Key of the dictionary compiled from a warehouse's vocabulary: its content and the compiler's inputs."""
    content = [con.execute(sql).fetchone() for sql in VOCABULARY_CONTENT_SQL]
    return hashlib.sha256(f"{content}{fingerprint_files(_compiler_inputs())}".encode()).hexdigest()[:16]


def _warehouse_vocabulary_key(warehouse: Path) -> str:
    """``vocabulary_key`` of the warehouse, remembered per file state (path, size, mtime): every night writes
    NOTE_NLP into the warehouse, and keying the dictionary on the file itself recompiled it after each one."""
    import duckdb

    state = warehouse.resolve().stat()
    file_state = f"{warehouse.resolve()}|{state.st_size}|{state.st_mtime_ns}"
    index_path = cache_dir() / "warehouse-vocabulary-keys.json"
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        index = {}
    if file_state in index:
        return index[file_state]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        key = vocabulary_key(con)
    index = {k: v for k, v in index.items() if not k.startswith(f"{warehouse.resolve()}|")}
    index[file_state] = key
    try:
        index_path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=index_path.parent, suffix=".partial", delete=False) as handle:
            json.dump(index, handle)
        os.replace(handle.name, index_path)
    except OSError as exc:
        log.warning("could not remember the warehouse vocabulary key (%s)", exc.strerror or type(exc).__name__)
    return key


def warehouse_dictionary_path(warehouse: Path) -> Path:
    out = cache_dir() / f"warehouse-dictionary-{_warehouse_vocabulary_key(Path(warehouse))}.parquet"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
            partial = Path(tmp) / out.name
            compile_dictionary(warehouse, partial)
            os.replace(partial, out)
    return out


def compiled_dictionary_for(vocabulary: Path, staging: Path) -> Path:
    """A night's normalization dictionary: the vocabulary of a DuckDB file compiled once per vocabulary content
    into ``<staging>/_dictionary`` (the file name, which enters ``nlp_system``, is the vocabulary's content key)."""
    import duckdb

    with duckdb.connect(str(vocabulary), read_only=True) as con:
        key = vocabulary_key(con)
    out = Path(staging) / DICTIONARY_DIR / f"dictionary-{key}.parquet"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        log.info("compiling the normalization dictionary from the warehouse vocabulary ...")
        with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
            partial = Path(tmp) / out.name
            stats = compile_dictionary(vocabulary, partial)
            os.replace(partial, out)
        log.info("dictionary compiled: %s", stats)
    return out


def resolve_dictionary_path(dictionary: str | None) -> Path:
    """An explicit artifact, else the warehouse's vocabulary, else the shipped demo vocabulary."""
    if dictionary:
        return file_or_resource(dictionary)
    warehouse = loader.loaded_vocabulary_warehouse()
    return warehouse_dictionary_path(warehouse) if warehouse else demo_dictionary_path()


@lru_cache(maxsize=4)
def _load(path: str) -> Dictionary:
    return Dictionary.load(path)


def load_dictionary(dictionary: str | None) -> Dictionary:
    return _load(str(resolve_dictionary_path(dictionary)))


@dataclass
class Resolved:
    candidate: Candidate
    label: str
    score: float


class Lookup:
    def __init__(self, dictionary: Dictionary, domains: tuple[str, ...]):
        self.dictionary = dictionary
        self.domains = frozenset(domains)
        self.labels = labels()
        self._resolved: dict[tuple[str, frozenset[str] | None], tuple[list[Candidate], str | None]] = {}

    def allowed(self, candidate: Candidate, allowed_domains: frozenset[str] | None = None) -> str | None:
        """The label of a candidate if its domain may be emitted, else None."""
        if not candidate.concept_id or candidate.domain_id not in self.domains:
            return None
        if allowed_domains is not None and candidate.domain_id not in allowed_domains:
            return None
        return self.labels.label(candidate)

    def resolve_key(self, key: str, raw_after: list[str], allowed_domains: frozenset[str] | None = None,
                    score_factor: float = 1.0) -> Resolved | None:
        """Best candidate of a term key; a drug looks at the strength and form written after it."""
        cached = self._resolved.get((key, allowed_domains))
        if cached is None:
            candidates = [c for c in self.dictionary.candidates.get(key, ()) if c.kind != "strength"]
            candidates = [c for c in candidates if self.allowed(c, allowed_domains)]
            label = self.allowed(candidates[0], allowed_domains) if candidates else None
            cached = (candidates, label)
            if len(self._resolved) < RESOLVED_CACHE_SIZE:
                # Notes repeat their terms; only a drug's product depends on the text after it.
                self._resolved[(key, allowed_domains)] = cached
        candidates, label = cached
        if not candidates:
            return None
        best = candidates[0]
        if best.domain_id == "Drug":
            return self._resolve_drug(best, candidates, raw_after, allowed_domains, score_factor)
        return Resolved(best, label, SCORES.get(best.kind, 0.9) * score_factor)

    def resolve_abbreviation(self, key: str, surface: str, doc: Doc | None, start: int, context: list[str],
                             allowed_domains: frozenset[str] | None = None) -> Resolved | None:
        senses = self.dictionary.abbreviations.get(key)
        if not senses:
            return None
        rule = senses[0].rule or {}
        if rule.get("case_sensitive", True) and " ".join(surface.split()) != rule.get("surface"):
            if surface.replace("-", " ").split() != rule.get("surface", "").replace("-", " ").split():
                return None
        if allowed_domains is not None:
            # The entity's label is evidence too: a PROBLEM "PE" is not the physical exam.
            fitting = [sense for sense in senses if self.allowed(sense, allowed_domains)]
            if not fitting:
                return None
            if len(fitting) == 1:
                return Resolved(fitting[0], self.allowed(fitting[0], allowed_domains), SCORES["abbreviation"])
        section = ""
        if doc is not None:
            found = doc.section_at(start)
            section = found.name if found else ""
        words = {w.lower() for w in context}
        scored = []
        for sense in senses:
            sense_rule = sense.rule or {}
            evidence = sum(1 for w in sense_rule.get("context", ()) if w in words)
            evidence += 2 * (section in sense_rule.get("sections", ()))
            scored.append((evidence, sense))
        best_evidence = max(e for e, _ in scored)
        if best_evidence > 0:
            winners = [s for e, s in scored if e == best_evidence]
            if len(winners) > 1:
                return None
            chosen = winners[0]
        else:
            defaults = [s for s in senses if (s.rule or {}).get("default")]
            if not defaults:
                return None
            chosen = defaults[0]
        label = self.allowed(chosen, allowed_domains)
        if label is None:
            return None
        return Resolved(chosen, label, SCORES["abbreviation"])

    def _resolve_drug(self, best: Candidate, candidates: list[Candidate], raw_after: list[str],
                      allowed_domains: frozenset[str] | None, score_factor: float) -> Resolved:
        """The RxNorm product the written strength and form point to, else the ingredient."""
        if best.kind in ("name", "synonym") and best.concept_class_id in PRODUCT_CLASSES:
            # The mention is the product's own name: strength and form are already in it.
            return Resolved(best, "DRUG", SCORES[best.kind] * score_factor)
        ingredient = drugs.ingredient_key(best.concept_name, best.concept_class_id) or best.key
        written = drugs.parse_written_strength(raw_after, 0) if raw_after else None
        if written is not None:
            products = [c for c in self.dictionary.candidates.get(f"{ingredient} @ {written.strength}", ())
                        if self.allowed(c, allowed_domains)]
            if products:
                # A brand written with its strength (``OxyContin 10 mg``) is that brand's product.
                brand_ids = {c.concept_id for c in candidates if c.kind == "brand"}
                chosen = max(products, key=lambda c: (c.concept_id in brand_ids,
                                                      drugs.form_score(c.form, written.form_words)))
                return Resolved(chosen, "DRUG", score_factor)
        forms = written.form_words if written else drugs.written_forms(raw_after)
        # A shorthand that names the form (``levonorgestrel IUD``, ``nitro patch``) counts as written.
        forms = forms | drugs.written_forms(best.key.split(" "), max_tokens=4)
        pool = [c for c in self.dictionary.candidates.get(ingredient, ())
                if c.kind == "ingredient" and self.allowed(c, allowed_domains)]
        if best.concept_class_id == "Ingredient" and not forms:
            return Resolved(best, "DRUG", SCORES.get(best.kind, 0.9) * score_factor)
        # A brand name (``Mirena``, ``OxyContin``) narrows the products to that brand's.
        pool = [c for c in candidates if c.kind == "brand"] or pool
        if pool:
            fit = [(drugs.form_score(c.form, forms), -len(c.concept_name), c) for c in pool]
            score, _, chosen = max(fit, key=lambda item: item[:2])
            if forms and score <= 0 and best.concept_class_id == "Ingredient":
                return Resolved(best, "DRUG", SCORES.get(best.kind, 0.9) * score_factor)
            confident = len(pool) == 1 or (forms and score > 0 and sum(1 for f in fit if f[0] == score) == 1)
            return Resolved(chosen, "DRUG", (SCORES["ingredient"] if confident else AMBIGUOUS_PRODUCT_SCORE)
                            * score_factor)
        return Resolved(best, "DRUG", SCORES.get(best.kind, 0.9) * score_factor)


def propagate_products(entities: list, min_score: float = 1.0) -> None:
    """A drug named without strength takes the product the same note names with a strength.

    ``Started lisinopril 20 mg daily ... lisinopril was held`` -> both lisinopril 20 MG Oral Tablet:
    a drug resolved to its ingredient, or to a product only guessed (score below ``min_score``),
    refers to the one product of that ingredient the note states.
    """
    by_ingredient: dict[str, set[int]] = {}
    sources: dict[int, object] = {}
    for entity in entities:
        if entity.label == "DRUG" and entity.concept_id and entity.match_score >= min_score:
            key = drugs.ingredient_key(entity.concept_name)
            if key and _is_product(entity.concept_name):
                by_ingredient.setdefault(key, set()).add(entity.concept_id)
                sources.setdefault(entity.concept_id, entity)
    if not by_ingredient:
        return
    for entity in entities:
        if entity.label != "DRUG" or not entity.concept_id:
            continue
        if entity.match_score >= min_score and _is_product(entity.concept_name):
            continue
        stated = by_ingredient.get(drugs.ingredient_key(entity.concept_name) or "", set())
        if len(stated) != 1:
            continue  # two strengths of one drug in the note (a taper, a dose change): keep what the text says
        source = sources[next(iter(stated))]
        if source is not entity and source.concept_id != entity.concept_id:
            for name in ("concept_id", "source_concept_id", "vocabulary_id", "concept_code", "concept_name"):
                setattr(entity, name, getattr(source, name))
            entity.match_score = round(min(source.match_score, 0.9), 4)


def _is_product(concept_name: str) -> bool:
    return drugs.parse_product(concept_name) is not None or concept_name.startswith("{")
