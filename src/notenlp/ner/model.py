"""The NER model: tokenizer + cached features + linear-chain CRF (trained with CRFsuite, decoded by ner.crf), saved as one zip file."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from notenlp.ner.corpora import LabelledText, non_overlapping
from notenlp.ner.clusters import learn_clusters
from notenlp.ner.crf import CompiledCRF
from notenlp.ner.document import Mention, propagate
from notenlp.ner.features import FeatureExtractor, build_gazetteer, load_suffix_groups
from notenlp.ner.lexicon import drug_name_words, icd10cm_pair_bands, icd10cm_word_bands
from notenlp.ner.morphology import MorphologyScorer, jackknife_bands, train_scorer, word_labels
from notenlp.ner.tokenize import TOKEN_RE, Token, split_sentences, tokenize

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
# c1 0.05 / c2 0.2 beside 0.01 / 0.05, on the ICD-10-CM pair and drug-name features: BC5CDR dev
# chemical F1 0.906 / 0.906, disease 0.822 / 0.815, NCBI 0.849 / 0.842.
DEFAULT_PARAMS: dict[str, Any] = {"c1": 0.05, "c2": 0.2, "max_iterations": 100, "gazetteer_folds": 2, "clusters": True,
                                  "lexicon": True, "morphology": True, "pairs": True, "drug_names": True}


def bio_tags(tokens: Sequence[Token], mentions: Iterable[tuple[int, int, str]]) -> list[str]:
    """BIO tag per token; mentions whose edges fall inside a token snap outward to it."""
    tags = ["O"] * len(tokens)
    for start, end, label in non_overlapping(mentions):
        inside = [i for i, (_, s, e) in enumerate(tokens) if s < end and start < e]
        for n, i in enumerate(inside):
            tags[i] = f"{'B' if n == 0 else 'I'}-{label}"
    return tags


def decode(tokens: Sequence[Token], tags: Sequence[str]) -> list[tuple[int, int, str, int, int]]:
    """(start, end, label, first token, last token + 1) of each BIO chunk; a stray I- opens a chunk."""
    chunks = []
    i, n = 0, len(tags)
    while i < n:
        tag = tags[i]
        if tag == "O":
            i += 1
            continue
        label = tag[2:]
        j = i + 1
        while j < n and tags[j] == f"I-{label}":
            j += 1
        chunks.append((tokens[i][1], tokens[j - 1][2], label, i, j))
        i = j
    return chunks


def training_sequences(docs: Iterable[LabelledText]) -> list[tuple[list[str], list[str], str | None]]:
    """(words, BIO tags, domain of the text) per sentence of each labelled text."""
    sequences = []
    for doc in docs:
        keep = [(s, e) for s, e, _ in doc.mentions]
        for start, end in split_sentences(doc.text, keep):
            tokens = tokenize(doc.text, start, end)
            if tokens:
                inside = [m for m in doc.mentions if start <= m[0] and m[1] <= end]
                sequences.append(([t[0] for t in tokens], bio_tags(tokens, inside), doc.domain))
    return sequences


def mention_tokens(words: Sequence[str], tags: Sequence[str]) -> list[tuple[tuple[str, ...], str]]:
    tokens = [(w, i, i + 1) for i, w in enumerate(words)]
    return [(tuple(words[a:b]), label) for _, _, label, a, b in decode(tokens, tags)]


class NerModel:
    """Tags text with PROBLEM/DRUG/TEST/PROCEDURE mentions. Load once per process; not thread-safe."""

    def __init__(self, meta: dict[str, Any], crf_bytes: bytes | Callable[[], bytes], domain: str | None = None, *,
                 file_key: str | None = None):
        """``domain``: the annotation convention to tag by, one of ``meta["domains"]`` or several
        joined by "+" (their mean); default ``meta["default_domain"]``, "" for the shared weights only.
        ``file_key``: content hash of the model file ``crf_bytes`` (then a function that reads them, only when
        needed) comes from; see :class:`CompiledCRF`."""
        self.meta = meta
        self.labels: list[str] = meta["labels"]
        self.domain = meta.get("default_domain") if domain is None else domain
        if self.domain and not set(self.domain.split("+")) <= set(meta.get("domains", ())):
            raise ValueError(f"NER model has no domain {self.domain!r} (it has {meta.get('domains', [])})")
        gazetteer = {tuple(k.split(" ")): v for k, v in meta["gazetteer"].items()}
        self._crf_source = crf_bytes
        self._file_key = file_key
        morphology = MorphologyScorer(meta["morphology"]).band if meta.get("morphology") else None
        extractor = FeatureExtractor(meta["suffix_groups"], gazetteer, meta.get("clusters"), meta.get("lexicon"),
                                     morphology, meta.get("pairs"), meta.get("drug_names", ()))
        self.crf = CompiledCRF(crf_bytes, extractor, self.domain or None, model_key=file_key)

    @property
    def _crf_bytes(self) -> bytes:
        """The CRFsuite model (read from the model file on first use when it was loaded from one)."""
        if callable(self._crf_source):
            self._crf_source = self._crf_source()
        return self._crf_source

    # -- training ---------------------------------------------------------------------------------
    @classmethod
    def train(cls, docs: Sequence[LabelledText], params: dict[str, Any] | None = None,
              clusters: dict[str, list[int]] | None = None) -> "NerModel":
        """Train on labelled texts with CRFsuite (L-BFGS, elastic net).

        Gazetteer features of the training data come from the other folds (jackknife), so the
        CRF learns how far to trust a gazetteer hit on text it has not seen. Word clusters
        (see :mod:`notenlp.ner.clusters`) are learned from the training texts unless given.
        Texts with a ``domain`` also train that domain's feature copies; ``params["default_domain"]``
        is the one the model tags by unless told otherwise."""
        import pycrfsuite

        params = {**DEFAULT_PARAMS, **(params or {})}
        suffix_groups = load_suffix_groups()
        sequences = training_sequences(docs)
        folds = max(1, int(params["gazetteer_folds"]))
        full_gazetteer = build_gazetteer(m for words, tags, _ in sequences for m in mention_tokens(words, tags))
        if clusters is None:
            clusters = learn_clusters(words for words, _, _ in sequences) if params["clusters"] else {}
        lexicon = icd10cm_word_bands() if params["lexicon"] else {}
        pairs = icd10cm_pair_bands() if params["lexicon"] and params["pairs"] else {}
        drug_names = drug_name_words() if params["lexicon"] and params["drug_names"] else []
        scorer, morphology = None, None
        if params["morphology"]:
            labelled = word_labels((words, tags) for words, tags, _ in sequences)
            scorer = train_scorer(labelled)
            held_out = jackknife_bands(labelled)

            def morphology(word: str) -> str | None:
                lower = word.lower()
                return held_out[lower] if lower in held_out else scorer.band(word)
        trainer = pycrfsuite.Trainer(verbose=False)
        trainer.set_params({"c1": params["c1"], "c2": params["c2"], "max_iterations": params["max_iterations"],
                            "feature.possible_transitions": True})
        started = time.perf_counter()
        for fold in range(folds):
            gazetteer = full_gazetteer
            if folds > 1:
                gazetteer = build_gazetteer(m for k, (words, tags, _) in enumerate(sequences) if k % folds != fold
                                            for m in mention_tokens(words, tags))
            extractor = FeatureExtractor(suffix_groups, gazetteer, clusters, lexicon, morphology, pairs, drug_names)
            for k, (words, tags, domain) in enumerate(sequences):
                if folds == 1 or k % folds == fold:
                    trainer.append(extractor.sequence(words, domain), tags)
        log.info("features of %d sentences in %.1fs; training the CRF", len(sequences), time.perf_counter() - started)
        with tempfile.TemporaryDirectory() as tmp:
            model_file = os.path.join(tmp, "ner.crfsuite")
            trainer.train(model_file)
            domains = sorted({domain for _, _, domain in sequences if domain})
            default_domain = params.get("default_domain") or ""
            if default_domain and not set(default_domain.split("+")) <= set(domains):
                raise ValueError(f"default domain {default_domain!r} is not one of the training domains {domains}")
            meta = {"format_version": FORMAT_VERSION, "params": params, "suffix_groups": suffix_groups,
                    "domains": domains, "default_domain": default_domain,
                    "gazetteer": {" ".join(k): v for k, v in sorted(full_gazetteer.items())}, "clusters": clusters,
                    "lexicon": lexicon, "pairs": pairs, "drug_names": drug_names,
                    "morphology": scorer.state if scorer is not None else None,
                    "training": {"sentences": len(sequences), "tokens": sum(len(w) for w, _, _ in sequences),
                                 "seconds": round(time.perf_counter() - started, 1),
                                 "iterations": (trainer.logparser.last_iteration or {}).get("num"),
                                 "loss": (trainer.logparser.last_iteration or {}).get("loss"),
                                 "active_features": (trainer.logparser.last_iteration or {}).get("active_features")}}
            crf_bytes = Path(model_file).read_bytes()
        labels = sorted({t[2:] for _, tags, _ in sequences for t in tags if t != "O"})
        return cls({**meta, "labels": labels}, crf_bytes)

    # -- persistence ------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """One zip file: the CRFsuite model and ``meta.json`` (features, gazetteer, training facts)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("meta.json", json.dumps(self.meta, sort_keys=True))
            archive.writestr("model.crfsuite", self._crf_bytes)
        return path

    @classmethod
    def load(cls, path: str | Path, domain: str | None = None) -> "NerModel":
        """The model saved at ``path``; its CRFsuite part is unzipped only when its weight tables are not cached."""
        import io

        from notenlp import cache

        file_key = cache.content_key(Path(path).read_bytes())

        def crf_bytes() -> bytes:
            data = Path(path).read_bytes()
            if cache.content_key(data) != file_key:  # the tables must come from the file the key names
                raise RuntimeError(f"NER model file {Path(path).name} changed after it was loaded; load it again")
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return archive.read("model.crfsuite")

        return cls(cls.read_meta(path), crf_bytes, domain, file_key=file_key)

    def with_domain(self, domain: str | None) -> "NerModel":
        """The same model tagging by another domain's weights."""
        return NerModel(self.meta, self._crf_source, domain, file_key=self._file_key)

    @staticmethod
    def read_meta(path: str | Path) -> dict[str, Any]:
        with zipfile.ZipFile(path) as archive:
            meta = json.loads(archive.read("meta.json"))
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"NER model format {meta.get('format_version')} is not {FORMAT_VERSION}")
        return meta

    # -- tagging ----------------------------------------------------------------------------------
    def predict(self, text: str, spans: Sequence[tuple[int, int]] | None = None, *, with_scores: bool = True) -> list[Mention]:
        """Mentions in ``text``; each (start, end) span is tagged as one sequence (whole text when None).

        The score of a mention is the smallest marginal probability of its tokens' tags."""
        spans = spans if spans is not None else [(0, len(text))]
        # Words only; offsets are taken (by the same tokenizer) for the spans where something was tagged.
        word_lists = [TOKEN_RE.findall(text, start, end) for start, end in spans]
        tagged_spans = [span for span, words in zip(spans, word_lists) if words]
        word_lists = [words for words in word_lists if words]
        if not word_lists:
            return []
        paths, marginals = self.crf.decode(word_lists, with_marginals=with_scores)
        mentions = []
        for k, (span, path) in enumerate(zip(tagged_spans, paths)):
            if path.count("O") == len(path):
                continue
            for start, end, label, a, b in decode(tokenize(text, *span), path):
                score = min(marginals[k][a:b]) if marginals is not None else 1.0
                mentions.append(Mention(start, end, label, score))
        return mentions

    def predict_document(self, text: str, spans: Sequence[tuple[int, int]] | None = None, *,
                         with_scores: bool = True) -> list[Mention]:
        """Mentions of the spans (default: sentences by the training splitter), then made
        consistent across the document (abbreviations, repeated mention strings)."""
        spans = split_sentences(text) if spans is None else spans
        return propagate(text, self.predict(text, spans, with_scores=with_scores), repeat_mentions=True)

    def predict_sentences(self, text: str, *, with_scores: bool = False) -> list[Mention]:
        """Document-level mentions of corpus text split with the training sentence splitter."""
        return self.predict_document(text, with_scores=with_scores)
