"""``notenlp evaluate phrasings``: top-1 concept accuracy on real phrasings from the public corpora.

The demo gold is phrased by its own generator, so it cannot tell how the normalizer meets the words other
writers use. This set is built from text nobody on the project wrote: the disease and chemical mentions of
the NCBI Disease and BC5CDR development corpora (``../shared/corpora``), which annotators tied to MeSH ids.
A MeSH id becomes a gold concept when exactly one of its mentions has, token for token (``text.key``), the
name of exactly one standard concept of the loaded vocabulary of the mention's kind (Condition or Observation
for diseases, a drug Ingredient for chemicals); every *other* distinct phrasing of that MeSH id is an item,
with that concept as its gold ("acetylsalicylic acid", "ASA" -> aspirin; "dyspnoea", "shortness of breath" ->
Dyspnea). The gold inherits MeSH's granularity, so a few items are coarser or finer than the SNOMED concept
("hyperthermia" -> Fever); they are kept as built, not picked.

Items are sorted into the kinds the normalizer must handle (abbreviation, spelling variant, word order, a
qualifier on the anchor's words, other synonym), and split by MeSH id into ``dev`` (tune on these) and
``aside`` (three MeSH ids in ten, by a hash of the id: score only). The baseline beside the normalizer, in the
same run, is exact case-insensitive string match to a concept name or synonym (``evaluate.exact_string_index``).
Only counts, phrasings (public abstracts' words) and concept names are printed.
"""

from __future__ import annotations

import argparse
import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from notenlp.vocab.text import key, norm_tokens

CORPUS_FILES = (
    ("ncbi-disease", "NCBItrainset_corpus.txt"), ("ncbi-disease", "NCBIdevelopset_corpus.txt"),
    ("bc5cdr", "CDR_TrainingSet.PubTator.txt"), ("bc5cdr", "CDR_DevelopmentSet.PubTator.txt"),
)
ASIDE_BUCKETS = 3  # of 10: the share of MeSH ids kept aside
KINDS = ("abbreviation", "spelling", "word order", "qualifier", "synonym")
_ABBREVIATION = re.compile(r"^[A-Z][A-Za-z0-9-]{0,5}$")


@dataclass(frozen=True)
class Item:
    phrasing: str
    label: str  # PROBLEM or DRUG
    mesh_id: str
    concept_id: int
    concept_name: str
    kind: str
    part: str  # dev or aside
    count: int  # how often the corpora write it


def corpus_mentions(corpora: Path) -> dict[tuple[str, str], Counter]:
    """(label, MeSH id) -> phrasings (whitespace collapsed) with their counts, from the PubTator-style files."""
    mentions: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for folder, name in CORPUS_FILES:
        path = corpora / folder / name
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) < 6 or not parts[1].isdigit():
                continue
            words, kind, mesh = " ".join(parts[3].split()), parts[4], parts[5]
            if not mesh or mesh == "-1" or "|" in mesh or "+" in mesh:  # composite or unlinked mentions
                continue
            mentions[("DRUG" if kind == "Chemical" else "PROBLEM", mesh)][words] += 1
    return mentions


def concept_names(con) -> dict[tuple[str, str], set[tuple[int, str]]]:
    """(label, name key) -> standard concepts of that name, from a vocabulary DuckDB connection."""
    rows = con.execute("""
        select concept_id, concept_name, case when domain_id = 'Drug' then 'DRUG' else 'PROBLEM' end
        from concept
        where standard_concept = 'S' and coalesce(invalid_reason, '') = ''
            and (domain_id in ('Condition', 'Observation') or (domain_id = 'Drug' and concept_class_id = 'Ingredient'))
    """).fetchall()
    names: dict[tuple[str, str], set[tuple[int, str]]] = defaultdict(set)
    for concept_id, name, label in rows:
        names[(label, key(name))].add((concept_id, name))
    return names


def kind_of(phrasing: str, anchor: str) -> str:
    words, anchor_words = norm_tokens(phrasing), norm_tokens(anchor)
    if _ABBREVIATION.match(phrasing) and phrasing.upper() == phrasing and len(words) == 1:
        return "abbreviation"
    if sorted(words) == sorted(anchor_words):
        return "word order"
    if set(anchor_words) < set(words):
        return "qualifier"
    if _close(" ".join(words), " ".join(anchor_words)):
        return "spelling"
    return "synonym"


def _close(a: str, b: str) -> bool:
    """Within two edits (spelling variants: anaemia/anemia, dystonic/dystonia)."""
    if abs(len(a) - len(b)) > 2:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] <= 2


def part_of(mesh_id: str) -> str:
    return "aside" if int(hashlib.sha256(mesh_id.encode()).hexdigest(), 16) % 10 < ASIDE_BUCKETS else "dev"


def build(mentions: dict[tuple[str, str], Counter], names: dict[tuple[str, str], set[tuple[int, str]]]) -> list[Item]:
    items = []
    for (label, mesh), phrasings in sorted(mentions.items()):
        anchors = {concepts.pop() if len(concepts) == 1 else None
                   for concepts in (set(names.get((label, key(p)), ())) for p in phrasings) if concepts}
        if len(anchors) != 1 or None in anchors:
            continue
        concept_id, concept_name = anchors.pop()
        seen = {key(concept_name)}
        for phrasing, count in sorted(phrasings.items()):
            if key(phrasing) in seen:  # the anchor itself, or a case/plural/punctuation copy of another item
                continue
            seen.add(key(phrasing))
            items.append(Item(phrasing, label, mesh, concept_id, concept_name, kind_of(phrasing, concept_name),
                              part_of(mesh), count))
    return items


def normalize_phrasings(normalizer, items: Iterable[Item]) -> list[tuple[int, str]]:
    """(concept_id, concept_name) the normalizer gives each phrasing, each alone as a one-mention document."""
    from notenlp.doc import Doc, Entity

    out = []
    for item in items:
        doc = Doc(text=item.phrasing, note_id=0,
                  entities=[Entity(0, len(item.phrasing), item.phrasing, item.label)])
        normalizer(doc)
        out.append((doc.entities[0].concept_id or 0, doc.entities[0].concept_name or ""))
    return out


def score(items: list[Item], predicted: list[int], exact: dict[str, int]) -> list[dict]:
    """Rows of n, normalizer and exact-string top-1 accuracy by part and by part x kind."""
    totals: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for item, concept_id in zip(items, predicted):
        for group in ((item.part, "ALL"), (item.part, item.kind)):
            totals[group]["n"] += 1
            totals[group]["normalizer"] += concept_id == item.concept_id
            totals[group]["exact_string"] += exact.get(item.phrasing.lower()) == item.concept_id
    order = {k: i for i, k in enumerate(("ALL", *KINDS))}
    return [{"part": part, "kind": kind, "n": c["n"], "normalizer": c["normalizer"] / c["n"],
             "exact_string": c["exact_string"] / c["n"]}
            for (part, kind), c in sorted(totals.items(), key=lambda kv: (kv[0][0] != "dev", order[kv[0][1]]))]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpora", type=Path, default=None, help="the public corpora folder (default: as configured)")
    parser.add_argument("--dictionary", default=None, help="compiled dictionary artifact (default: as the pipeline)")
    parser.add_argument("--min-score", type=float, default=0.75, help="normalizer score threshold")
    parser.add_argument("--show-errors", type=int, default=0, help="print this many wrong phrasings of dev")


def run(args: argparse.Namespace) -> int:
    import tempfile

    import duckdb

    from notenlp.corpora import MISSING_MESSAGE, corpus_path
    from notenlp.metrics import format_table
    from notenlp.vocab import loader
    from notenlp.evaluation.normalize import exact_string_index
    from notenlp.vocab.normalizer import Normalizer

    corpora = args.corpora or corpus_path()
    if corpora is None or not Path(corpora).exists():
        raise SystemExit(MISSING_MESSAGE)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.duckdb"
        loader.load_demo(path)
        with duckdb.connect(str(path), read_only=True) as con:
            items = build(corpus_mentions(Path(corpora)), concept_names(con))
    normalizer = Normalizer(dictionary=args.dictionary, min_score=args.min_score)
    predicted = normalize_phrasings(normalizer, items)
    exact, _ = exact_string_index(Path(args.dictionary) if args.dictionary else None)
    rows = score(items, [p[0] for p in predicted], exact)
    print(f"top-1 concept accuracy on {len(items)} real phrasings of {len({i.mesh_id for i in items})} MeSH ids")
    print(format_table(rows, ["part", "kind", "n", "normalizer", "exact_string"]))
    errors = [{"phrasing": i.phrasing, "kind": i.kind, "gold": i.concept_name, "predicted": p[1]}
              for i, p in zip(items, predicted) if i.part == "dev" and p[0] != i.concept_id][:args.show_errors]
    if errors:
        print(format_table(errors, ["phrasing", "kind", "gold", "predicted"]))
    return 0
