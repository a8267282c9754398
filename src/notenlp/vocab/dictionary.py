"""The normalization dictionary: every way a concept is written, keyed for fast lookup.

``compile_dictionary(warehouse, out)`` reads the loaded OMOP vocabulary and writes one Parquet
artifact with a row per (normalized key, candidate concept):

- concept names and CONCEPT_SYNONYM names of the Condition, Drug, Measurement, Procedure and
  Observation domains, with written variants (``name_variants``: word order, qualifiers in
  brackets, trailing ``symptom``/``finding``); a non-standard concept reaches its standard
  concept through 'Maps to' (``source_concept_id`` keeps the matched concept);
- RxNorm products parsed into ``ingredient @ strength`` keys (``metformin @ 500 MG``) with their
  dose form, plain ingredient names (salts dropped) and brand names;
- lay terms (``resources/vocab/lay_terms.json``) and abbreviations with their disambiguation
  rules (``resources/vocab/abbreviations.json``), resolved to the first listed concept name
  the vocabulary has; abbreviations also stand in for their expansion inside longer names
  (``CKD stage 3``).

Candidates under one key are ranked: kind (name, synonym, lay, variant, ...), standard source
first, vocabulary (SNOMED, RxNorm, LOINC, others), shorter concept name, lower concept id.
The compile streams through DuckDB, so a full Athena download compiles in bounded memory.
``Dictionary.load(path)`` reads the artifact for the matcher and the normalizer.
"""

from __future__ import annotations

import json
import logging
import math
import marshal
import os
import tempfile
import time
from array import array
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator, Mapping
from itertools import accumulate, chain
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from notenlp import cache
from notenlp.resources import resource_path
from notenlp.vocab import drugs, text

log = logging.getLogger(__name__)
T = TypeVar("T")
KEY_SEPARATOR = "\x1f"  # between keys in one cached string (keys are normalized words: never this character)

DOMAINS: tuple[str, ...] = ("Condition", "Drug", "Measurement", "Procedure", "Observation")
KIND_RANK = {"name": 0, "synonym": 1, "lay": 2, "abbreviation": 2, "variant": 3, "ingredient": 4, "brand": 5,
             "abbreviated": 6, "strength": 7}
VOCABULARY_RANK = {"SNOMED": 0, "RxNorm": 1, "LOINC": 2, "RxNorm Extension": 3, "ICD10CM": 4}
PRODUCT_CLASSES = frozenset({
    "Clinical Drug", "Branded Drug", "Quant Clinical Drug", "Quant Branded Drug", "Clinical Drug Comp",
    "Branded Drug Comp", "Clinical Pack", "Branded Pack",
})
STRIP_SUFFIXES = ("symptom", "finding", "disorder")
MAX_CANDIDATES = 8
PYTHON_CHUNK_ROWS = 100_000
COLUMNS = ("key", "kind", "rank", "source_concept_id", "concept_id", "domain_id", "vocabulary_id", "concept_code",
           "concept_name", "concept_class_id", "form", "extra")


def _variant_keys(term: str) -> list[tuple[str, bool]]:
    """(key, is the term itself) of each written variant of a name; the reference for ``SQL_VARIANT_KEYS``."""
    out = []
    for i, variant in enumerate(text.name_variants(term, STRIP_SUFFIXES)):
        variant_key = text.key(variant)
        if variant_key:
            out.append((variant_key, i == 0))
    return out


def _drug_keys(term: str, product: bool) -> list[tuple[str, str, str]]:
    """(key, kind, form) a drug name adds: a product's ``ingredient @ strength``, plain ingredient (or
    combination), pack and brand keys; an ingredient's name without its salt."""
    if not product:
        plain = text.key(drugs.plain_ingredient(term))
        return [(plain, "variant", "")] if plain and plain != text.key(term) else []
    out = []
    pack_keys, pack_form = drugs.pack_ingredient_keys(term)
    out.extend((key, "ingredient", pack_form) for key in pack_keys)
    parsed = drugs.parse_product(term)
    if parsed is not None:
        if len(parsed.ingredients) == 1:
            ingredient = parsed.ingredients[0]
            out.append((drugs.strength_key(ingredient, parsed.strengths[0]), "strength", parsed.form))
            out.append((text.key(drugs.plain_ingredient(ingredient)), "ingredient", parsed.form))
        else:
            out.append((drugs.combo_key([text.key(drugs.plain_ingredient(i)) for i in parsed.ingredients]),
                        "ingredient", parsed.form))
    brand = drugs.brand_of(term)
    if brand:
        out.append((text.key(brand), "brand", parsed.form if parsed else ""))
    return [row for row in out if row[0]]


def _python_keys(chunk: list[tuple[str, bool | None]]):
    """Keys of a chunk of (term, drug kind) pairs as an Arrow table (runs in a worker process).

    ``None``: the term's variant keys; True/False: the keys a drug product/ingredient name adds.
    """
    import pyarrow as pa

    columns: dict[str, list] = {name: [] for name in ("term", "product", "key", "is_name", "kind", "form")}
    for term, product in chunk:
        if product is None:
            rows = [(key, is_name, "", "") for key, is_name in _variant_keys(term)]
        else:
            rows = [(key, False, kind, form) for key, kind, form in _drug_keys(term, product)]
        for key, is_name, kind, form in rows:
            for name, value in zip(columns, (term, product, key, is_name, kind, form)):
                columns[name].append(value)
    return pa.table(columns, schema=_python_keys_schema())


def _python_keys_schema():
    import pyarrow as pa

    return pa.schema([("term", pa.string()), ("product", pa.bool_()), ("key", pa.string()), ("is_name", pa.bool_()),
                      ("kind", pa.string()), ("form", pa.string())])


def _arrow_batch(rows: list[tuple]):
    import pyarrow as pa

    names = ("key", "kind", "nonstandard_source", "source_concept_id", "concept_id", "domain_id", "vocabulary_id",
             "concept_code", "concept_name", "concept_class_id", "form", "extra")
    return pa.table({name: [r[i] for r in rows] for i, name in enumerate(names)})


# ``text.key`` and ``text.name_variants`` in DuckDB SQL, for terms of printable ASCII only (there Python's
# ``\d``, ``\s``, ``isalpha`` and ``strip`` agree with RE2's and DuckDB's); other terms go through Python.
# tests/vocab/test_compile_sql.py checks both give the same keys.
SQL_PYTHON_ONLY = "regexp_matches(term, '[^ -~]')"
_TOKEN_SQL = r"regexp_extract_all(s, '[A-Za-z][A-Za-z0-9]*|[0-9]+(?:\.[0-9]+)?')"
_NORM_TOKEN_SQL = """CASE
    WHEN length(w) <= 3 OR NOT regexp_full_match(w, '[a-z]+') THEN w
    WHEN length(w) > 4 AND suffix(w, 'ies') THEN left(w, length(w) - 3) || 'y'
    WHEN suffix(w, 'sses') OR suffix(w, 'xes') OR suffix(w, 'ches') OR suffix(w, 'shes') THEN left(w, length(w) - 2)
    WHEN suffix(w, 's') AND NOT (suffix(w, 'ss') OR suffix(w, 'us') OR suffix(w, 'is') OR suffix(w, 'ys')
                                 OR suffix(w, 'as') OR suffix(w, 'os')) THEN left(w, length(w) - 1)
    ELSE w END"""


def _sql_macros() -> list[str]:
    suffixes = " ".join(
        f"WHEN suffix(lower(base), ' {suffix}') THEN left(base, length(base) - {len(suffix) + 1})"
        for suffix in STRIP_SUFFIXES)
    return [
        f"""CREATE OR REPLACE TEMP MACRO notenlp_key(s) AS array_to_string(list_transform(
                list_transform({_TOKEN_SQL}, lambda t: lower(t)), lambda w: {_NORM_TOKEN_SQL}), ' ')""",
        "CREATE OR REPLACE TEMP MACRO notenlp_words(s) AS length(list_filter(string_split(s, ' '), lambda x: x <> ''))",
        # The variants of ``text.name_variants`` (before de-duplication), NULL where a rule does not apply.
        f"""CREATE OR REPLACE TEMP MACRO notenlp_variants(name, base) AS list_filter([
                name,
                CASE WHEN base <> '' AND base <> name THEN base END,
                CASE WHEN contains(name, '[') AND trim(split_part(name, '[', 1)) <> ''
                     THEN trim(split_part(name, '[', 1)) END,
                CASE {suffixes} END,
                CASE WHEN contains(base, ' of ') AND NOT contains(base, ',')
                          AND NOT contains(substr(base, instr(base, ' of ') + 4), ' of ')
                          AND notenlp_words(substr(base, instr(base, ' of ') + 4)) <= 3
                     THEN substr(base, instr(base, ' of ') + 4) || ' ' || left(base, instr(base, ' of ') - 1) END,
                CASE WHEN contains(base, ', ') AND NOT contains(substr(base, instr(base, ', ') + 2), ', ')
                          AND notenlp_words(substr(base, instr(base, ', ') + 2)) <= 3
                     THEN substr(base, instr(base, ', ') + 2) || ' ' || left(base, instr(base, ', ') - 1) END
            ], lambda v: v IS NOT NULL)""",
        r"""CREATE OR REPLACE TEMP MACRO notenlp_variant_keys(name) AS list_transform(notenlp_variants(name,
                CASE WHEN contains(name, '(') OR contains(name, '[')
                     THEN trim(regexp_replace(name, '\s*[\(\[][^\)\]]*[\)\]]', '', 'g')) ELSE name END),
                lambda v: notenlp_key(v))""",
    ]


SQL_VARIANT_KEYS = """
    SELECT term, key, pos = 1 AS is_name FROM (
        SELECT term, keys, unnest(keys) AS key, generate_subscripts(keys, 1) AS pos
        FROM (SELECT term, notenlp_variant_keys(term) AS keys FROM {source}))
    WHERE key <> '' AND list_position(keys, key) = pos"""


def _load_json(name: str) -> dict[str, Any]:
    return json.loads(resource_path("vocab", name).read_text(encoding="utf-8"))


def compile_dictionary(warehouse_path: str | Path, out_path: str | Path, *,
                       domains: tuple[str, ...] = DOMAINS, workers: int | None = None, sql_keys: bool = True,
                       memory_limit: str = "4GB") -> dict[str, int]:
    """Compile the dictionary artifact from a warehouse that holds the vocabulary tables.

    Names are keyed (``text.key`` of each ``text.name_variants``) in DuckDB SQL, each distinct string
    once; Python keys only what SQL cannot: names with characters outside printable ASCII, and drug
    names to parse (``drugs``), in ``workers`` processes (default: the CPU count, at most 8).
    ``sql_keys=False`` keys every name in Python: the reference the SQL keys are tested against.
    ``memory_limit``: DuckDB's, beyond which it spills to the scratch folder.
    """
    import duckdb

    started = time.perf_counter()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # In memory up to memory_limit, spilled to the scratch folder beyond it: a full download outgrows RAM.
    scratch = tempfile.TemporaryDirectory(prefix="notenlp-dictionary-")
    con = duckdb.connect(config={"temp_directory": str(Path(scratch.name) / "spill")})
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    # DuckDB spills joins, sorts and windows to disk beyond this; the bar is 8 GB for the whole process.
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("ATTACH ? AS vocab (READ_ONLY)", [str(warehouse_path)])
    domain_list = ", ".join(f"'{d}'" for d in domains)
    con.execute(f"""
        CREATE TABLE src AS
        WITH maps AS (
            SELECT r.concept_id_1 AS source_id, t.concept_id, t.domain_id, t.vocabulary_id, t.concept_code,
                   t.concept_name, t.concept_class_id,
                   row_number() OVER (PARTITION BY r.concept_id_1 ORDER BY t.concept_id) AS rn
            FROM vocab.concept_relationship r JOIN vocab.concept t ON t.concept_id = r.concept_id_2
            WHERE r.relationship_id = 'Maps to' AND r.invalid_reason IS NULL
              AND t.standard_concept = 'S' AND t.invalid_reason IS NULL)
        SELECT c.concept_id AS source_concept_id, c.concept_class_id AS source_class,
               coalesce(c.standard_concept = 'S', false) AS source_is_standard,
               CASE WHEN c.standard_concept = 'S' THEN c.concept_id ELSE coalesce(m.concept_id, 0) END AS concept_id,
               CASE WHEN c.standard_concept = 'S' OR m.concept_id IS NULL THEN c.domain_id ELSE m.domain_id END AS domain_id,
               CASE WHEN c.standard_concept = 'S' OR m.concept_id IS NULL THEN c.vocabulary_id ELSE m.vocabulary_id END AS vocabulary_id,
               CASE WHEN c.standard_concept = 'S' OR m.concept_id IS NULL THEN c.concept_code ELSE m.concept_code END AS concept_code,
               CASE WHEN c.standard_concept = 'S' OR m.concept_id IS NULL THEN c.concept_name ELSE m.concept_name END AS concept_name,
               CASE WHEN c.standard_concept = 'S' OR m.concept_id IS NULL THEN c.concept_class_id ELSE m.concept_class_id END AS concept_class_id
        FROM vocab.concept c
        LEFT JOIN maps m ON m.source_id = c.concept_id AND m.rn = 1 AND c.standard_concept IS DISTINCT FROM 'S'
        WHERE (c.invalid_reason IS NULL OR m.concept_id IS NOT NULL)
    """)
    con.execute(f"DELETE FROM src WHERE domain_id NOT IN ({domain_list})")
    con.execute("""CREATE TABLE terms (key VARCHAR, kind VARCHAR, nonstandard_source BOOLEAN,
        source_concept_id INTEGER, concept_id INTEGER, domain_id VARCHAR, vocabulary_id VARCHAR,
        concept_code VARCHAR, concept_name VARCHAR, concept_class_id VARCHAR, form VARCHAR, extra VARCHAR)""")
    con.execute("""
        CREATE TABLE src_terms AS
        SELECT t.term, t.kind, s.* FROM src s JOIN (
            SELECT concept_id, concept_name AS term, 'name' AS kind FROM vocab.concept
            UNION ALL
            SELECT concept_id, concept_synonym_name, 'synonym' FROM vocab.concept_synonym
        ) t ON t.concept_id = s.source_concept_id
        WHERE t.term <> ''
    """)
    source_terms = con.execute("SELECT count(*) FROM src_terms").fetchall()[0][0]
    log.info("%d names and synonyms to key (%.0fs)", source_terms, time.perf_counter() - started)
    for macro in _sql_macros():
        con.execute(macro)
    product_classes = ", ".join(f"'{c}'" for c in sorted(PRODUCT_CLASSES))
    # Distinct strings only: a name is keyed once however many concepts and synonyms share it.
    con.execute("CREATE TABLE distinct_terms AS SELECT DISTINCT term FROM src_terms")
    con.execute("CREATE TABLE variant_keys (term VARCHAR, key VARCHAR, is_name BOOLEAN)")
    python_only = SQL_PYTHON_ONLY if sql_keys else "true"
    con.execute("INSERT INTO variant_keys " + SQL_VARIANT_KEYS.format(
        source=f"distinct_terms WHERE NOT ({python_only})"))
    log.info("keyed names in SQL (%.0fs)", time.perf_counter() - started)
    # Drug names only Python parses (RxNorm product grammar, salts, brands); a product name without a
    # digit or a bracket has no strength, pack or brand to parse.
    python_terms = f"""
        SELECT term, NULL::BOOLEAN AS product FROM distinct_terms WHERE {python_only}
        UNION ALL
        SELECT DISTINCT term, source_class IN ({product_classes}) FROM src_terms
        WHERE domain_id = 'Drug' AND (source_class = 'Ingredient' OR (source_class IN ({product_classes})
              AND (regexp_matches(term, '[0-9\\]]') OR {SQL_PYTHON_ONLY})))"""
    con.execute("CREATE TABLE python_keys (term VARCHAR, product BOOLEAN, key VARCHAR, is_name BOOLEAN, "
                "kind VARCHAR, form VARCHAR)")
    python_count = con.execute(f"SELECT count(*) FROM ({python_terms})").fetchall()[0][0]
    _key_in_python(con, python_terms, python_count, workers)
    log.info("keyed %d names in Python (%.0fs)", python_count, time.perf_counter() - started)
    con.execute("""INSERT INTO variant_keys SELECT term, key, is_name FROM python_keys WHERE product IS NULL""")
    con.execute(f"""
        INSERT INTO terms
        SELECT k.key, CASE WHEN k.is_name THEN s.kind ELSE 'variant' END, NOT s.source_is_standard,
               s.source_concept_id, s.concept_id, s.domain_id, s.vocabulary_id, s.concept_code, s.concept_name,
               s.concept_class_id, '', ''
        FROM src_terms s JOIN variant_keys k ON k.term = s.term
        UNION ALL
        SELECT k.key, k.kind, NOT s.source_is_standard, s.source_concept_id, s.concept_id, s.domain_id,
               s.vocabulary_id, s.concept_code, s.concept_name, s.concept_class_id, k.form, ''
        FROM src_terms s JOIN python_keys k ON k.term = s.term AND k.product = (s.source_class IN ({product_classes}))
        WHERE s.domain_id = 'Drug' AND (s.source_class = 'Ingredient' OR s.source_class IN ({product_classes}))
    """)
    for table in ("src_terms", "distinct_terms", "variant_keys", "python_keys"):
        con.execute(f"DROP TABLE {table}")
    log.info("%d keys of names (%.0fs)", con.execute("SELECT count(*) FROM terms").fetchall()[0][0],
             time.perf_counter() - started)
    writer = con.cursor()
    extra_rows = _curated_rows(con) + _abbreviated_rows(con)
    if extra_rows:
        writer.register("_batch", _arrow_batch(extra_rows))
        writer.execute("INSERT INTO terms SELECT * FROM _batch")
        writer.unregister("_batch")
    term_rows = con.execute("SELECT count(*) FROM terms").fetchall()[0][0]
    log.info("%d keys with lay terms and abbreviations; ranking (%.0fs)", term_rows, time.perf_counter() - started)
    vocab_rank = " ".join(f"WHEN '{v}' THEN {r}" for v, r in VOCABULARY_RANK.items())
    kind_rank = " ".join(f"WHEN '{k}' THEN {r}" for k, r in KIND_RANK.items())
    con.execute(f"""
        COPY (
            SELECT key, kind, rank, source_concept_id, concept_id, domain_id, vocabulary_id, concept_code,
                   concept_name, concept_class_id, form, extra
            FROM (
                SELECT *, row_number() OVER (
                    PARTITION BY key, kind = 'abbreviation'
                    ORDER BY concept_id = 0, CASE kind {kind_rank} ELSE 9 END, nonstandard_source,
                             CASE vocabulary_id {vocab_rank} ELSE 5 END,
                             -- a lab named without specimen is, by clinical convention, serum/plasma chemistry
                             concept_name NOT LIKE '%Serum or Plasma%', length(concept_name), concept_id,
                             source_concept_id, kind, form, extra) AS rank
                -- one row per (key, kind, source, concept, rule); the other columns follow from the concepts
                FROM (SELECT key, kind, min(nonstandard_source) AS nonstandard_source, source_concept_id, concept_id,
                             min(domain_id) AS domain_id, min(vocabulary_id) AS vocabulary_id,
                             min(concept_code) AS concept_code, min(concept_name) AS concept_name,
                             min(concept_class_id) AS concept_class_id, min(form) AS form, extra
                      FROM terms GROUP BY key, kind, source_concept_id, concept_id, extra)
            )
            WHERE rank <= {MAX_CANDIDATES} OR kind IN ('abbreviation', 'strength')
            ORDER BY key, rank
        ) TO '{out_path}' (FORMAT parquet, COMPRESSION zstd)
    """)
    keys, rows = con.execute(f"SELECT count(DISTINCT key), count(*) FROM read_parquet('{out_path}')").fetchall()[0]
    stats = {"names": source_terms, "term_rows": term_rows, "keys": keys, "rows": rows,
             "bytes": out_path.stat().st_size}
    writer.close()
    con.close()
    scratch.cleanup()
    log.info("dictionary %s: %d keys, %d rows, %d bytes in %.1fs", out_path.name, stats["keys"], stats["rows"],
             stats["bytes"], time.perf_counter() - started)
    return stats


def _key_in_python(con, query: str, count: int, workers: int | None) -> None:
    """Run ``_python_keys`` over the (term, product) rows of ``query`` into ``python_keys``, in chunks
    streamed from DuckDB, at most two chunks per worker in flight (bounded memory)."""
    reader = con.cursor().sql(query).to_arrow_reader(PYTHON_CHUNK_ROWS)

    def chunks():
        for batch in reader:
            yield list(zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()))

    writer = con.cursor()

    def insert(table) -> None:
        writer.register("_keys", table)
        writer.execute("INSERT INTO python_keys SELECT * FROM _keys")
        writer.unregister("_keys")

    workers = max(1, min(workers or os.cpu_count() or 1, 8)) if count > PYTHON_CHUNK_ROWS else 1
    try:
        if workers == 1:
            for chunk in chunks():
                insert(_python_keys(chunk))
            return
        import multiprocessing  # here, not at the top: a process that only loads the dictionary never needs them
        from concurrent.futures import ProcessPoolExecutor

        pending: deque = deque()
        done = 0
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as executor:
            for chunk in chunks():
                pending.append(executor.submit(_python_keys, chunk))
                while len(pending) >= 2 * workers or (pending and pending[0].done()):
                    insert(pending.popleft().result())
                    done += 1
                    log.info("keyed %d of %d names in Python", min(done * PYTHON_CHUNK_ROWS, count), count)
            while pending:
                insert(pending.popleft().result())
    finally:
        writer.close()


class _NameIndex:
    """Standard concepts by exact key, for the names that lay terms and abbreviations point to."""

    def __init__(self, con, names: set[str]):
        import pyarrow as pa

        con.register("_wanted", pa.table({"key": sorted({_name_key(n) for n in names})}))
        rows = con.execute(
            """SELECT key, source_concept_id, concept_id, domain_id, vocabulary_id, concept_code, concept_name,
                      concept_class_id
               FROM terms WHERE key IN (SELECT key FROM _wanted) AND concept_id <> 0
                 AND kind IN ('name', 'synonym', 'ingredient', 'variant')
               ORDER BY key, CASE kind WHEN 'name' THEN 0 WHEN 'synonym' THEN 1 WHEN 'variant' THEN 2 ELSE 3 END,
                        nonstandard_source, length(concept_name), concept_id, source_concept_id"""
        ).fetchall()
        con.unregister("_wanted")
        self.by_key: dict[str, list[tuple]] = defaultdict(list)
        for key, *fields in rows:
            self.by_key[key].append(tuple(fields))

    def best(self, names: list[str], domain: str | None, forms: frozenset[str] = frozenset()) -> tuple | None:
        """The best concept written exactly as one of ``names`` (in order of preference); with dose-form
        words (``levonorgestrel IUD``), the drug of the best-fitting form, ties kept in rank order."""
        for name in names:
            found = [fields for fields in self.by_key.get(_name_key(name), ()) if domain is None or fields[2] == domain]
            if found and forms:
                return max(found, key=lambda fields: drugs.form_score(_product_form(fields[5], fields[6]), forms))
            if found:
                return found[0]
        return None


def _product_form(concept_name: str, concept_class_id: str) -> str:
    if concept_class_id == "Ingredient":
        return ""
    product = drugs.parse_product(concept_name)
    return product.form if product else drugs.pack_ingredient_keys(concept_name)[1]


def _name_key(name: str) -> str:
    """Key of a concept name in the curated lists; ``a + b`` names a combination product."""
    if " + " in name:
        return drugs.combo_key([text.key(drugs.plain_ingredient(part)) for part in name.split(" + ")])
    return text.key(name)


def _curated_rows(con) -> list[tuple]:
    lay = _load_json("lay_terms.json")["terms"]
    config = _load_json("abbreviations.json")
    wanted = {n for spec in lay.values() for n in spec["names"]}
    wanted |= {n for spec in config["abbreviations"].values() for sense in spec["senses"] for n in sense["names"]}
    brands = drugs.drug_data().brands
    wanted |= set(brands.values())
    index = _NameIndex(con, wanted)
    rows: list[tuple] = []
    for phrase, spec in lay.items():
        best = index.best(spec["names"], spec.get("domain"))
        if best:
            rows.append((text.key(phrase), "lay", False, *best, "", ""))
    for brand, ingredients in brands.items():
        best = index.best([ingredients], "Drug", drugs.written_forms(brand.split(), max_tokens=4))
        if best:
            rows.append((text.key(brand), "lay", False, *best, "", ""))
    window = int(config.get("window", 8))
    for surface, spec in config["abbreviations"].items():
        for number, sense in enumerate(spec["senses"]):
            best = index.best(sense["names"], sense.get("domain")) if sense["names"] else None
            if sense["names"] and best is None:
                continue
            rule = {"surface": surface, "case_sensitive": spec.get("case_sensitive", True), "sense": number,
                    "senses": len(spec["senses"]), "context": sense.get("context", []),
                    "sections": sense.get("sections", []), "default": sense.get("default", len(spec["senses"]) == 1),
                    "window": window}
            fields = best or (0, 0, "", "", "", "", "")
            rows.append((text.key(surface), "abbreviation", False, *fields, "", json.dumps(rule, sort_keys=True)))
    return rows


def _abbreviated_rows(con) -> list[tuple]:
    """``CKD stage 3`` for ``Chronic kidney disease stage 3``: single-sense abbreviations inside longer names."""
    expansions = con.execute("""
        SELECT DISTINCT a.key AS abbreviation, n.key AS expansion FROM terms a
        JOIN terms n ON n.concept_id = a.concept_id AND n.kind = 'name'
        WHERE a.kind = 'abbreviation' AND a.extra LIKE '%"senses": 1,%' AND a.concept_id <> 0
          AND length(n.key) - length(replace(n.key, ' ', '')) >= 1
    """).fetchall()
    rows: list[tuple] = []
    for abbreviation, expansion in expansions:
        for (key, *fields) in con.execute(
            """SELECT key, source_concept_id, concept_id, domain_id, vocabulary_id, concept_code, concept_name,
                      concept_class_id FROM terms
               WHERE kind IN ('name', 'synonym', 'variant') AND concept_id <> 0 AND key <> ?
                 AND contains(' ' || key || ' ', ?)""",
            [expansion, f" {expansion} "],
        ).fetchall():
            short = f" {key} ".replace(f" {expansion} ", f" {abbreviation} ").strip()
            rows.append((short, "abbreviated", False, *fields, "", ""))
    return rows


class Candidate(NamedTuple):
    """One way a dictionary key resolves. A named tuple, not a frozen dataclass: a process builds ~150k of
    them at start-up, and a tuple is built ~3x faster than a frozen dataclass sets its eleven fields."""

    key: str
    kind: str
    source_concept_id: int
    concept_id: int
    domain_id: str
    vocabulary_id: str
    concept_code: str
    concept_name: str
    concept_class_id: str
    form: str
    rule: dict | None


class EncodedCandidates(Mapping):
    """key -> ranked candidates, each key's list kept marshalled (its rows without the key) until it is first
    looked up.

    A note looks up a few hundred of the ~150k keys: decoding only those, instead of building every
    ``Candidate`` at process start, is most of what loading the dictionary used to cost. Equal to the
    eager dict: same keys in the same order, equal lists; a decoded list is kept, so it is built once.
    ``encoded``: the keys joined by ``KEY_SEPARATOR``, the end offset of each key's rows in ``rows``, and
    ``rows`` (one block: it loads from the cache as one copy, not one bytes object per key).
    """

    def __init__(self, encoded: tuple[str, array, bytes]):
        joined, ends, rows = encoded
        keys = joined.split(KEY_SEPARATOR) if joined else []
        self._position = dict(zip(keys, range(len(keys))))
        self._ends = ends
        self._rows = memoryview(rows)
        self._decoded: dict[str, list[Candidate]] = {}

    def __getitem__(self, key: str) -> list[Candidate]:
        found = self._decoded.get(key)
        if found is None:
            i = self._position[key]
            make = Candidate._make
            rows = marshal.loads(self._rows[self._ends[i - 1] if i else 0:self._ends[i]])
            found = self._decoded[key] = [make((key, *row)) for row in rows]
        return found

    def get(self, key: str, default=None):
        found = self._decoded.get(key)
        if found is not None:
            return found
        if key not in self._position:
            return default
        return self[key]

    def __contains__(self, key: object) -> bool:
        return key in self._position

    def __iter__(self) -> Iterator[str]:
        return iter(self._position)

    def __len__(self) -> int:
        return len(self._position)


def _read_artifact(path: str | Path) -> tuple[dict[str, list[Candidate]], dict[str, list[Candidate]]]:
    """The artifact's rows as (candidates, abbreviations), each key -> its candidates in rank order."""
    import pyarrow.parquet as pq

    # ParquetFile, not read_table: read_table imports pyarrow.dataset, and with it pandas (~0.8 s a start).
    data = pq.ParquetFile(path).read(columns=[c for c in COLUMNS if c != "rank"]).to_pydict()
    candidates: dict[str, list[Candidate]] = defaultdict(list)
    abbreviations: dict[str, list[Candidate]] = defaultdict(list)
    forms = [form or "" for form in data["form"]]
    rules = [json.loads(extra) if extra else None for extra in data["extra"]]
    make = Candidate._make  # straight from a row tuple: no per-field Python arguments
    for candidate in map(make, zip(*(data[name] for name in Candidate._fields[:-2]), forms, rules)):
        (abbreviations if candidate.kind == "abbreviation" else candidates)[candidate.key].append(candidate)
    return dict(candidates), dict(abbreviations)


def _encoded_artifact(path: str | Path) -> tuple[tuple[str, array, bytes], dict[str, list[Candidate]]]:
    """The artifact as ``EncodedCandidates`` keeps it, and its abbreviations."""
    candidates, abbreviations = _read_artifact(path)
    if any(KEY_SEPARATOR in key for key in candidates):
        raise ValueError("a dictionary key holds the key separator")
    # marshal, not pickle: plain tuples of str/int/None/JSON dicts, about 4x smaller than pickled Candidates.
    blocks = [marshal.dumps(tuple(c[1:] for c in found)) for found in candidates.values()]
    ends = array("q", accumulate(len(block) for block in blocks))
    return (KEY_SEPARATOR.join(candidates), ends, b"".join(blocks)), abbreviations


class Dictionary:
    """The compiled artifact in memory: key -> ranked candidates, plus abbreviation rules.

    ``fingerprint``: the artifact's content key when it was loaded from a file (indexes derived from it are
    cached on disk under it), else None.
    """

    def __init__(self, candidates: Mapping[str, list[Candidate]], abbreviations: dict[str, list[Candidate]],
                 fingerprint: str | None = None):
        self.candidates = candidates
        self.abbreviations = abbreviations
        self.fingerprint = fingerprint
        self._bags: dict[str, str] | None = None
        self._key_words: set[str] | None = None
        self._token_index: dict[str, str] | None = None
        self._trigrams: tuple[dict[str, list[int]], list[str], list[int]] | None = None

    @classmethod
    def load(cls, path: str | Path) -> "Dictionary":
        """The artifact at ``path``; its rows are read once into the cache, kept per key until looked up."""
        fingerprint = cache.content_key(Path(path).read_bytes(), cache.source_bytes(__name__))
        encoded, abbreviations = cache.cached("vocab-rows", f"dictionary-{fingerprint}", lambda: _encoded_artifact(path))
        candidates = EncodedCandidates(encoded)
        log.info("loaded dictionary %s: %d keys, %d abbreviations", Path(path).name, len(candidates), len(abbreviations))
        return cls(candidates, abbreviations, fingerprint)

    def derived(self, name: str, build: Callable[[], T], *parts: bytes | str) -> T:
        """``build()``, an index derived from this dictionary (and ``parts``): cached on disk when the
        dictionary came from a file, so a process start reads it instead of walking every key."""
        if self.fingerprint is None:
            return build()
        return cache.cached("vocab-index", f"{name}-{cache.content_key(self.fingerprint, *parts)}", build)

    def key_words(self) -> set[str]:
        """Every word (split on single spaces) of every key."""
        if self._key_words is None:
            self._key_words = self.derived("key-words", lambda: set(" ".join(self.candidates).split(" ")))
        return self._key_words

    # Bags and fuzzy indexes serve the normalizer; they are built on first use only (or read from the cache).
    def by_bag(self, bag: str) -> list[Candidate]:
        if self._bags is None:
            self._bags = self.derived("bags", self._bag_keys)
            self._bag_candidates: dict[str, list[Candidate]] = {}
        found = self._bag_candidates.get(bag)
        if found is None:
            keys = self._bags.get(bag)
            found = [] if keys is None else [c for key in keys.split(KEY_SEPARATOR) for c in self.candidates[key]
                                             if c.kind not in ("strength", "brand") and c.concept_id]
            self._bag_candidates[bag] = found
        return found

    def _bag_keys(self) -> dict[str, str]:
        """Bag of words -> the keys (joined by ``KEY_SEPARATOR``, in dictionary order) with a candidate the
        normalizer may use. A key's candidates all fall in its own bag, so keys are enough to find them."""
        bags: dict[str, list[str]] = defaultdict(list)
        for key, candidates in self.candidates.items():
            if any(c.kind not in ("strength", "brand") and c.concept_id for c in candidates):
                bags[text.bag(key.split(" "))].append(key)
        return {bag: KEY_SEPARATOR.join(keys) for bag, keys in bags.items()}

    def correct_token(self, token: str) -> tuple[str, int] | None:
        """The dictionary word closest to an unknown word (one edit; two for words of 9+ letters).

        A deletion index (every word with one letter dropped) finds the candidates without
        scanning the vocabulary: two words within one edit share a one-deletion form.
        """
        if len(token) < 5 or not token.isalpha():
            return None
        if self._token_index is None:
            self._token_index = self.derived("deletion-index", self._deletion_index)
        limit = 2 if len(token) >= 9 else 1
        index = self._token_index
        pool: set[str] = set(index[token].split(" ")) if token in index else set()
        for i in range(len(token)):
            words = index.get(token[:i] + token[i + 1:])
            if words is not None:
                pool.update(words.split(" "))
        best: tuple[str, int] | None = None
        for word in sorted(pool):
            distance = text.edit_distance(token, word, limit)
            if distance <= limit and (best is None or distance < best[1]):
                best = (word, distance)
        return best

    def _deletion_index(self) -> dict[str, str]:
        """Word or one-deletion form -> the space-joined key words (4+ letters) it stands for.

        Joined strings, not sets: the index is read from the cache at a process start, and ~300k short
        strings load several times faster than as many sets.
        """
        # Distinct words first: keys repeat words many times over, and indexing each
        # occurrence made building the index cost seconds per process.
        words = sorted(word for word in self.key_words() if len(word) >= 4 and word.isalpha())
        index: dict[str, list[str]] = defaultdict(list)
        for word in words:
            forms = {word, *(word[:i] + word[i + 1:] for i in range(len(word)))}
            for form in forms:
                index[form].append(word)
        return {form: " ".join(found) for form, found in index.items()}

    def _trigram_index(self) -> tuple[dict[str, array], list[str], list[int]]:
        return _trigram_index_of(self.candidates)

    def trigram_search(self, query: str, allowed: set[str] | None, limit: int = 20,
                       min_dice: float = 0.0) -> list[tuple[float, str]]:
        """Keys most similar to ``query`` by character trigram Dice coefficient, best first.

        With ``min_dice``, only keys at least that similar are returned (the same ones, in the same
        order, as without it), found from the query's rarest trigrams: a key with Dice >= t shares at
        least t/(2-t) of the query's trigrams, so it holds one of the rarest ones.
        """
        if self._trigrams is None:
            self._trigrams = self.derived("trigrams", self._trigram_index)
        postings, keys, sizes = self._trigrams
        grams = _trigrams(query)
        if min_dice > 0:
            needed = math.ceil(min_dice * len(grams) / (2 - min_dice) - 1e-9)
            by_rarity = sorted(grams, key=lambda gram: len(postings.get(gram, ())))
            split = len(grams) - max(needed, 1) + 1
            rare, common = by_rarity[:split], by_rarity[split:]
            rare_counts = Counter(chain.from_iterable(postings.get(gram, ()) for gram in rare))
            # Most keys holding a rare trigram fall short even if they held every common one too: only
            # the others are checked for the common trigrams (3-character substrings of the padded key).
            counts: dict[int, int] = {i: shared + sum(map(f"  {keys[i]} ".__contains__, common))
                                      for i, shared in rare_counts.items()
                                      if 2 * (shared + len(common)) / (len(grams) + sizes[i]) >= min_dice}
        else:
            counts = Counter(chain.from_iterable(postings.get(gram, ()) for gram in grams))
        scored = []
        for i, shared in counts.items():
            dice = 2 * shared / (len(grams) + sizes[i])
            if dice < min_dice:
                continue
            key = keys[i]
            if allowed is None or any(c.domain_id in allowed for c in self.candidates[key]):
                scored.append((dice, key))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return scored[:limit]


def _trigram_index_of(candidates: Mapping[str, list[Candidate]]) -> tuple[dict[str, array], list[str], list[int]]:
    """(trigram -> positions of the keys holding it, keys with a concept of 80 characters at most, their trigram
    counts). Positions in arrays: they load from the cache as one block each, not an int object apiece."""
    postings: dict[str, list[int]] = defaultdict(list)
    keys = [k for k in candidates if len(k) <= 80 and any(c.concept_id for c in candidates[k])]
    sizes = []
    for i, key in enumerate(keys):
        grams = _trigrams(key)
        sizes.append(len(grams))
        for gram in grams:
            postings[gram].append(i)
    return {gram: array("l", found) for gram, found in postings.items()}, keys, sizes


def _trigrams(value: str) -> set[str]:
    padded = f"  {value} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}
