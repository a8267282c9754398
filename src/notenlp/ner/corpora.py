"""Readers for the public NER corpora and the demo gold, as texts with labelled mention spans."""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from notenlp.attributes import DRUG, PROBLEM

log = logging.getLogger(__name__)

BC5CDR_LABELS = {"Chemical": DRUG, "Disease": PROBLEM}
NCBI_LABELS = {"SpecificDisease": PROBLEM, "DiseaseClass": PROBLEM, "Modifier": PROBLEM, "CompositeMention": PROBLEM}
NER_LABELS = ("PROBLEM", "DRUG", "TEST", "PROCEDURE")

# Default corpus files, relative to the corpora folder: (train, dev).
CORPUS_FILES = {
    "bc5cdr": ("bc5cdr/CDR_TrainingSet.PubTator.txt", "bc5cdr/CDR_DevelopmentSet.PubTator.txt"),
    "ncbi": ("ncbi-disease/NCBItrainset_corpus.txt", "ncbi-disease/NCBIdevelopset_corpus.txt"),
    "ade": ("ade-corpus-v2", "ade-corpus-v2"),
}
# Annotation convention (domain) of each corpus: the model keeps per-domain weights besides the shared ones.
CORPUS_DOMAINS = {"bc5cdr": "bc5cdr", "ncbi": "ncbi", "ade": "ade", "demo": "demo"}
# Labels each corpus annotates exhaustively; predictions of other labels are not scored against it.
CORPUS_LABELS = {"bc5cdr": (DRUG, PROBLEM), "ncbi": (PROBLEM,), "ade": (DRUG, PROBLEM)}


@dataclass
class LabelledText:
    doc_id: str
    text: str
    mentions: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, label)
    domain: str | None = None  # annotation convention the mentions follow (see notenlp.ner.features.DOMAIN_MARK)


def read_pubtator(path: str | Path, label_map: dict[str, str]) -> list[LabelledText]:
    """PubTator files: ``pmid|t|title``, ``pmid|a|abstract``, then tab-separated mention lines.

    Title and abstract join with one space, which is how the mention offsets count them.
    """
    docs: list[LabelledText] = []
    current: LabelledText | None = None
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            current = None
            continue
        head = line.split("|", 2)
        if len(head) == 3 and head[1] in ("t", "a") and "\t" not in head[0]:
            if head[1] == "t" or current is None:
                current = LabelledText(head[0], head[2])
                docs.append(current)
            else:
                current.text = f"{current.text} {head[2]}"
            continue
        parts = line.split("\t")
        if current is None or len(parts) < 5 or parts[1] == "CID":
            continue
        label = label_map.get(parts[4])
        if label is None:
            continue
        start, end = int(parts[1]), int(parts[2])
        if current.text[start:end] != parts[3]:
            log.warning("mention offsets disagree with the text in document %s; skipped", current.doc_id)
            continue
        current.mentions.append((start, end, label))
    return docs


def read_ade(folder: str | Path, *, include_negative: bool = False) -> list[LabelledText]:
    """ADE corpus v2 sentences with their drug (DRUG) and adverse-effect (PROBLEM) mentions.

    The corpus gives offsets into the whole abstract, which it does not ship; mentions are
    placed by finding their text in the sentence (every whole-word occurrence). Negative
    sentences carry unannotated drugs and conditions, so they are left out unless asked for.
    """
    by_sentence: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for name in ("DRUG-AE.rel", "DRUG-DOSE.rel"):
        path = Path(folder) / name
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split("|")
            if len(parts) < 8:
                continue
            pmid, sentence = parts[0], parts[1]
            key = (pmid, sentence)
            if name == "DRUG-AE.rel":
                by_sentence[key].add((parts[2], PROBLEM))
            by_sentence[key].add((parts[5], DRUG))
    docs = []
    for (pmid, sentence), mentions in by_sentence.items():
        doc = LabelledText(pmid, sentence)
        for mention, label in mentions:
            for m in re.finditer(rf"(?<!\w){re.escape(mention)}(?!\w)", sentence):
                doc.mentions.append((m.start(), m.end(), label))
        docs.append(doc)
    if include_negative:
        for line in (Path(folder) / "ADE-NEG.txt").read_text(encoding="utf-8").splitlines():
            pmid, _, sentence = line.partition(" NEG ")
            if sentence:
                docs.append(LabelledText(pmid.strip(), sentence))
    return docs


def split_by_document(docs: list[LabelledText], dev_every: int = 5) -> tuple[list[LabelledText], list[LabelledText]]:
    """Deterministic train/dev split by document id (every ``dev_every``-th id goes to dev)."""
    ids = sorted({d.doc_id for d in docs})
    dev_ids = set(ids[::dev_every])
    return [d for d in docs if d.doc_id not in dev_ids], [d for d in docs if d.doc_id in dev_ids]


def read_demo_gold(path: str | Path) -> list[LabelledText]:
    """Demo gold JSONL (one note per line, ``entities`` with start/end/label)."""
    docs = []
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                docs.append(demo_record(json.loads(line)))
    return docs


def demo_record(record: dict) -> LabelledText:
    mentions = [(e["start"], e["end"], e["label"]) for e in record.get("entities", []) if e["label"] in NER_LABELS]
    return LabelledText(str(record["note_id"]), record["text"], mentions)


def non_overlapping(mentions: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Longest-first selection of mentions that do not overlap (nested/composite mentions collapse)."""
    kept: list[tuple[int, int, str]] = []
    for m in sorted(set(mentions), key=lambda m: (-(m[1] - m[0]), m[0])):
        if all(m[1] <= k[0] or k[1] <= m[0] for k in kept):
            kept.append(m)
    return sorted(kept)
