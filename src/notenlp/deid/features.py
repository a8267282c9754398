"""Token features of the statistical name/location model, shared by training and inference.

Features are strings hashed into a fixed number of buckets, so the model file is a dense
weight matrix and inference needs neither scikit-learn nor a vocabulary.
"""

from __future__ import annotations

import re
import zlib
from functools import lru_cache

from notenlp.deid.resources import Lexicons

TOKEN_RE = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*(?:-[^\W\d_]+)*|\d+|[^\w\s]|_|\n")
N_BUCKETS = 1 << 16
LABELS = ("O", "NAME", "LOCATION")
_SHAPE_RE = (re.compile(r"[A-Z]"), re.compile(r"[a-z]"), re.compile(r"\d"))


def word_key(word: str) -> str:
    """Lower-case lookup key of a token: possessive 's dropped."""
    lower = word.lower()
    if lower.endswith(("'s", "\u2019s")):
        lower = lower[:-2]
    return lower


# Notes repeat the same few thousand words: their keys and feature buckets are computed once per process.
cached_word_key = lru_cache(maxsize=1 << 17)(word_key)


def tokenize(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, token)`` for each TOKEN_RE match.

    TOKEN_RE covers every character but blanks, so each token is the next occurrence of its text;
    ``str.find`` locates it faster than building a match object per token.
    """
    tokens, position, find = [], 0, text.find
    for token in TOKEN_RE.findall(text):
        start = find(token, position)
        position = start + len(token)
        tokens.append((start, position, token))
    return tokens


def shape(word: str) -> str:
    if word.isupper():
        return "X" if len(word) == 1 else "XX"
    if word[0].isupper():
        return "Xx" if word[1:].islower() else "XxX"
    if word.islower():
        return "x"
    if word.isdigit():
        return "d"
    return "other"


def token_features(tokens: list[str], keys: list[str], i: int, lex: Lexicons, cues: dict[str, frozenset[str]]) -> list[str]:
    word, key = tokens[i], keys[i]
    prev = keys[i - 1] if i > 0 else "<s>"
    prev2 = keys[i - 2] if i > 1 else "<s>"
    nxt = keys[i + 1] if i + 1 < len(keys) else "</s>"
    nxt2 = keys[i + 2] if i + 2 < len(keys) else "</s>"
    prev_tok = tokens[i - 1] if i > 0 else ""
    next_tok = tokens[i + 1] if i + 1 < len(tokens) else ""
    if prev == "." and i > 1:  # "Dr." and "Mr." end in a period token
        prev_title = keys[i - 2] in cues["titles"]
    else:
        prev_title = prev in cues["titles"]
    feats = [
        "bias", f"w={key}", f"shape={shape(word)}", f"suf3={key[-3:]}", f"pre2={key[:2]}",
        f"p={prev}", f"n={nxt}", f"p2={prev2}|{prev}", f"n2={nxt}|{nxt2}",
        f"pshape={shape(prev_tok) if prev_tok else '<s>'}", f"nshape={shape(next_tok) if next_tok else '</s>'}",
        f"len={min(len(key), 10)}",
    ]
    flags = (
        ("first", key in lex.first_names), ("last", key in lex.last_names), ("city", key in lex.cities),
        ("state", key in lex.states), ("country", key in lex.countries), ("med", key in lex.medical_words),
        ("epon", key in lex.eponyms), ("clin", key in lex.clinical_words), ("stop", key in lex.stop_words),
        ("ptitle", prev_title), ("pcue", prev in cues["name_cues"]), ("ploc", prev in cues["location_cues"]),
        ("ncred", nxt in cues["credentials"]), ("nmed", nxt in cues["medical_heads"]),
        ("nloc", nxt in cues["location_heads"]), ("pfirst", prev in lex.first_names),
        ("nlast", nxt in lex.last_names), ("sent0", prev in {"<s>", ".", ":", "\n", "!", "?"}),
        ("poss", word.lower().endswith("'s")),
    )
    combo = []
    for name, on in flags:
        if on:
            feats.append(f"f={name}")
            combo.append(name)
    feats.append("combo=" + "+".join(combo[:4]))
    return feats


@lru_cache(maxsize=1 << 18)
def feature_bucket(feature: str) -> int:
    return zlib.crc32(feature.encode()) & (N_BUCKETS - 1)


def hash_features(feats: list[str]) -> list[int]:
    return [feature_bucket(f) for f in feats]
