"""Hybrid PHI detection (placeholders, patterns, cue rules, lexicons, token model) and replacement."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from notenlp.deid.features import TOKEN_RE, cached_word_key, token_features, tokenize, word_key
from notenlp.deid.model import DEFAULT_MODEL, load_model
from notenlp.deid.resources import WHOLE, load_context, load_lexicons, load_patterns
from notenlp.deid.surrogates import Surrogates
from notenlp.doc import Doc, PhiSpan

log = logging.getLogger(__name__)

PLACEHOLDER_RE = re.compile(r"\[\*\*(.*?)\*\*\]|(?<!_)_{3,}(?!_)", re.DOTALL)
_DATE_CONTENT_RE = re.compile(r"\d{1,4}(?:[-/]\d{1,4}){1,2}")
_FRACTION_DENOMINATORS = {"2", "3", "4", "5", "10"}  # halves .. fifths, pain scores
# Detector precedence when spans overlap: lower wins.
_PRIORITY = {"placeholder": 0, "pattern": 1, "rule": 2, "lexicon": 3, "model": 4}
# One-word weak name cues: after the first four an everyday-word name counts too ("per swift,"); after the
# others only a name that is no everyday word ("fever with chill," stays)
_WEAK_CUE_WORDS = frozenset({"per", "paged", "page", "notified", "notify", "by", "from", "with", "called"})
_NAMING_CUE_WORDS = frozenset({"per", "paged", "page", "notified"})
_BED_MOVE_WORDS = frozenset({"when", "at", "prior", "pending", "today", "tonight", "tmrw", "tomorrow", "overnight"})
_NAME_CREDENTIALS = frozenset({"rn", "np", "md", "crnp", "lpn", "rrt"})  # not "do", "pa": words too
COMMON_NAME_RANK = 10_000  # Census names this frequent count as names without a cue
_SENTENCE_BREAKS = {"<s>", ".", ":", "\n", "!", "?", ";", "-", "*", "#"}


@dataclass
class DeidResult:
    text: str
    phi: list[PhiSpan] = field(default_factory=list)  # offsets into the input text
    replacements: list[str] = field(default_factory=list)  # written for each phi span, same order
    date_shift_days: int | None = None


def _phrases(entries: list[str]) -> dict[int, frozenset[tuple[str, ...]]]:
    """Cue phrases grouped by token count, as token tuples."""
    by_len: dict[int, set[tuple[str, ...]]] = {}
    for entry in entries:
        words = tuple(word_key(m.group()) for m in TOKEN_RE.finditer(entry))
        by_len.setdefault(len(words), set()).add(words)
    return {n: frozenset(v) for n, v in by_len.items()}


class Deidentifier:
    """Finds PHI and writes surrogates (``mode="surrogate"``) or type tags (``mode="tag"``).

    ``secret_hex`` (or ``secret_file``) keys the surrogates and the per-person date shift; without
    either, a random per-process key is used, so surrogates are then consistent only within one process.
    """

    def __init__(self, *, mode: str = "surrogate", secret_hex: str | None = None, secret_file: str | None = None,
                 model: str | None = DEFAULT_MODEL, model_threshold: float = 0.5,
                 sentence_start_threshold: float = 0.8, detect_times: bool = False,
                 patterns: str = "deid/patterns.json", context: str = "deid/context.json",
                 lexicons: str = "deid"):
        if mode not in ("surrogate", "tag"):
            raise ValueError("mode must be 'surrogate' or 'tag'")
        self.mode = mode
        if secret_hex is None and secret_file:
            secret_hex = Path(secret_file).read_text(encoding="utf-8").strip()
        if secret_hex is None:
            secret_hex = os.urandom(32).hex()
            if mode == "surrogate":
                log.warning("no de-identification secret given: surrogates are consistent only within this process")
        self._secret = bytes.fromhex(secret_hex)
        self.lex = load_lexicons(lexicons)
        self.patterns = load_patterns(patterns, frozenset({"times"} if detect_times else set()))
        ctx = load_context(context)
        self.model = load_model(model) if model else None
        self.model_threshold = model_threshold
        self.sentence_start_threshold = sentence_start_threshold
        self.titles = frozenset(ctx["name_titles"])
        self.credential_titles = frozenset(ctx["credential_titles"])
        self.credentials = frozenset(word_key(c) for c in ctx["name_suffix_credentials"])
        self.name_cues = _phrases(ctx["name_cues"])
        self.weak_name_cues = _phrases(ctx["weak_name_cues"])
        self.strong_location_cues = _phrases(ctx["strong_location_cues"])
        self.location_cues = frozenset(c for c in ctx["location_cues"] if " " not in c)
        self.location_heads = _phrases(ctx["location_heads"] + ctx["organization_heads"])
        self.location_head_starts = frozenset(p[0] for ps in self.location_heads.values() for p in ps)
        self.place_starts = frozenset(p.split()[0] for p in self.lex.cities | self.lex.states | self.lex.countries if p)
        self.organization_heads = frozenset(word_key(c) for c in ctx["organization_heads"])
        self.medical_heads = frozenset(ctx["medical_heads"])
        self.lower_case_titles = frozenset(ctx["lower_case_titles"])
        self.ratio_cues = frozenset(ctx["ratio_cues"])
        self.post_name_cues = frozenset(ctx["post_name_cues"])
        self.bracket_name_cues = frozenset(ctx["bracket_name_cues"])
        self.ward_cues = _phrases(ctx["ward_cues"])
        self.directions = frozenset(ctx["directions"])
        self.ward_heads = frozenset(ctx["ward_heads"])
        self.facility_context_after = frozenset(ctx["facility_context_after"])
        self.name_followers = frozenset(ctx["name_followers"])
        self.setting_change_verbs = frozenset(ctx["setting_change_verbs"])
        self.date_event_cues = frozenset(ctx["date_event_cues"])
        self.cued_only_names = frozenset(ctx["cued_only_names"])
        self.facility_cues = _phrases(ctx["facility_cues"])
        self.place_cue_ends = frozenset(p[-1] for table in (self.facility_cues, self.strong_location_cues)
                                        for ps in table.values() for p in ps)
        self.facility_cue_ends = frozenset(p[-1] for ps in self.facility_cues.values() for p in ps)
        self.strong_cue_ends = frozenset(p[-1] for ps in self.name_cues.values() for p in ps)
        self._unknown_names: dict[str, bool] = {}  # per-key caches of _names_by_evidence's tests
        self._census_keys: dict[str, bool] = {}
        self.any_case_cue_ends = self.facility_cue_ends | self.strong_cue_ends | self.lower_case_titles
        # Words of the cues themselves ("son", "wife", "dr") are never the name that follows a cue.
        self.never_names = self.lex.shorthand | self.titles | self.credential_titles | self.credentials | frozenset(
            w for table in (self.name_cues, self.weak_name_cues) for ps in table.values() for p in ps for w in p)
        self.placeholder_types = [(re.compile(r"\b" + re.escape(k)), v) for k, v in ctx["placeholder_types"]]
        self.feature_cues = {
            "titles": self.titles | self.credential_titles,
            "name_cues": frozenset(p[-1] for ps in self.name_cues.values() for p in ps),
            "location_cues": self.location_cues,
            "credentials": self.credentials,
            "medical_heads": self.medical_heads,
            "location_heads": frozenset(p[0] for ps in self.location_heads.values() for p in ps),
        }
        self.surrogates = Surrogates(self._secret, self.lex, frozenset(
            w for ps in self.location_heads.values() for p in ps for w in p) | {"st", "saint", "of", "the"})

    # ------------------------------------------------------------------ detection
    def detect(self, text: str, note_date: str | None = None) -> list[PhiSpan]:
        candidates = self._placeholders(text)
        candidates += self._patterns(text)
        candidates += self._names_and_places(text)
        return _resolve(candidates)

    def _placeholders(self, text: str) -> list[PhiSpan]:
        spans = []
        for m in PLACEHOLDER_RE.finditer(text):
            content = m.group(1)
            phi_type = self._placeholder_type(content) if content is not None else self._blank_type(text, m.start())
            spans.append(PhiSpan(m.start(), m.end(), phi_type, f"{phi_type}.PLACEHOLDER", "placeholder"))
        return spans

    def _placeholder_type(self, content: str) -> str:
        stripped = content.strip()
        if _DATE_CONTENT_RE.fullmatch(stripped) or re.fullmatch(r"(?:19|20|21)\d\d", stripped):
            return "DATE"
        lower = stripped.lower()
        for keyword, phi_type in self.placeholder_types:
            if keyword.search(lower):
                return phi_type
        if re.fullmatch(r"[\d\s-]+", stripped):
            return "ID"
        return "NAME"

    def _blank_type(self, text: str, start: int) -> str:
        """Type of a MIMIC-IV ``___`` from the words just before it."""
        before = text[max(0, start - 30):start].lower()
        words = re.findall(r"[a-z#]+", before)
        last = words[-1] if words else ""
        if re.search(r"(date|admission|discharge|birth|on|dob)\s*:?\s*$", before):
            return "DATE"
        if re.search(r"(unit no|mrn|record|#|number|no\.)\s*:?\s*$", before):
            return "ID"
        if re.search(r"(phone|tel|fax|pager|call)\s*:?\s*$", before):
            return "PHONE"
        if last in ("age", "aged") or re.match(r"\s*(?:-|\s)?(?:y/?o|year)", text[start + 3:start + 12].lower()):
            return "AGE"
        if last in ("at", "in", "to", "from", "hospital"):
            return "LOCATION"
        return "NAME"

    def _patterns(self, text: str) -> list[PhiSpan]:
        spans = []
        lower = text.lower()
        for pattern in self.patterns:
            if pattern.requires and not any(r in lower for r in pattern.requires):
                continue
            whole = WHOLE if pattern.anchored else 0
            last_end = 0
            for m in pattern.regex.finditer(text):
                match_start, match_end = m.span(whole)
                if match_start < last_end:  # anchored form: inside the previous match, which plain finditer skips
                    continue
                last_end = match_end
                start, end = m.span(pattern.span_group) if pattern.span_group else (match_start, match_end)
                if start < 0 or start == end:
                    continue
                if pattern.before is not None and not pattern.before.search(text, max(0, match_start - 60), match_start):
                    continue
                if (pattern.subtype == "DATE.MD" and "/" in text[start:end] or pattern.name == "date_month_year2") \
                        and not self._is_month_day(text, start, end):
                    continue
                if pattern.name == "date_md_dash_event" and not self._after_date_cue(text, start):
                    continue
                spans.append(PhiSpan(start, end, pattern.type, pattern.subtype, "pattern"))
        return spans

    def _is_month_day(self, text: str, start: int, end: int) -> bool:
        """Tell "3/4" (a date) from "5/5 strength" and "1/2 tab" (fractions, scores)."""
        month, day = text[start:end].split("/")
        after = text[end:end + 12].lower()  # a unit or a score word on the next line is no longer about it
        if re.match(r"[ \t]*(?:strength|str|tab|tabs|tablet|cup|of|assist|pulses?|reflex|dose|ns|nss|ml|mg|x\b"
                    r"|peep|ps\b|psv|cpap|fio2|tv\b|bilat|throughout|[lr]?[ul]e\b|b/l|-?-?>)", after):
            return False
        before_text = text[max(0, start - 24):start].lower()
        before = re.findall(r"[a-z0-9:]+", before_text)
        if before and before[-1] in ("to", "at") and len(before) > 1 and (
                before[-2] in self.ratio_cues or before[-2] in self.setting_change_verbs):
            return False  # "weaned to 10/5", "PS at 10/5"
        if before and (before[-1] in self.ratio_cues or re.fullmatch(r"\d+/\d+", before[-1])
                       or re.search(r"\d\s*/\s*$|\d\s*-?>\s*$", before_text)):
            return False
        if day in _FRACTION_DENOMINATORS or day.lstrip("0") in _FRACTION_DENOMINATORS:
            if int(month) <= int(day):
                return self._after_date_cue(text, start)
        return True

    def _after_date_cue(self, text: str, start: int) -> bool:
        """Whether the word just before ``start`` makes the number pair there a date ("placed 8-23", "npn 5/6")."""
        before = re.findall(r"[a-z][a-z/']*", text[max(0, start - 20):start].lower())
        return (bool(before) and before[-1] in self.date_event_cues
                and not re.search(r"\d\s*$", text[max(0, start - 3):start]))

    def _names_and_places(self, text: str) -> list[PhiSpan]:
        tokens = tokenize(text)
        words = [t[2] for t in tokens]
        keys = list(map(cached_word_key, words))
        n = len(tokens)
        lex = self.lex
        spans: list[PhiSpan] = []
        taken = [False] * (n + 3)
        # Per-token flags, padded so that i + 1 .. i + 3 never fall off the end.
        alpha = [w[0].isalpha() for w in words] + [False] * 3
        capital = [w[0].isupper() for w in words] + [False] * 3
        cap_idx = [i for i in range(n) if capital[i]]

        def is_title_case(i: int) -> bool:
            w = words[i]
            return w[0].isupper() and not (len(w) > 1 and w.isupper())

        def is_word(i: int) -> bool:
            return i >= 0 and alpha[i]

        def is_cap(i: int) -> bool:
            return i >= 0 and capital[i]

        def followed_by_medical_head(i: int) -> bool:
            j = i + 1
            if j < n and words[j] in ("'", "\u2019"):
                j += 1
            return j < n and keys[j] in self.medical_heads

        def name_ok(i: int) -> bool:
            w = words[i]
            if len(w) <= 3 and w.isupper() and len(w) > 1:  # "MAR", "HCP": abbreviations
                return False
            if len(w) == 1 and i + 1 < n and (words[i + 1] == "/" or tokens[i + 1][0] == tokens[i][1]):
                return False  # "D/W", "X2664": an abbreviation or a code, not an initial
            return is_cap(i) and not lex.is_common_word(keys[i]) and not followed_by_medical_head(i)

        token_spans: list[tuple[int, int]] = []

        def add(i: int, j: int, phi_type: str, subtype: str, source: str, score: float = 1.0) -> None:
            spans.append(PhiSpan(tokens[i][0], tokens[j][1], phi_type, subtype, source, score))
            token_spans.append((i, j))
            for k in range(i, j + 1):
                taken[k] = True

        def name_run(i: int, limit: int = 3, strong: bool = False) -> int:
            """Last index of a run of name tokens starting at i (initials like "J." included), or -1."""
            last, count, j = -1, 0, i
            while j < n and count < limit:
                if not is_cap(j) or followed_by_medical_head(j):
                    break
                if count and tokens[j][0] - tokens[j - 1][1] > 1:  # a column gap or line break ends a name
                    break
                # After a first name, a surname may also be a medical word ("Susan Miller", "John Parkinson").
                common = (keys[j] in lex.stop_words or keys[j] in lex.clinical_words) if count else \
                    lex.is_common_word(keys[j])
                if not strong and common and len(words[j]) > 1:
                    break
                if len(words[j]) > 1 and words[j].isupper() and (keys[j] not in lex.first_names
                                                                  and keys[j] not in lex.last_names
                                                                  or count and lex.is_name_word(keys[j])):
                    break  # "RN MAGEE GAVE REPORT": capitals that are everyday words end the name
                last, count = j, count + 1
                if len(words[j]) == 1 and j + 1 < n and words[j + 1] == ".":
                    j += 2
                else:
                    j += 1
            return last

        def cue_at(i: int, phrases: dict[int, frozenset[tuple[str, ...]]]) -> int:
            """Index just after a cue phrase ending at token i - 1, or -1."""
            for length, options in phrases.items():
                if i - length >= 0 and tuple(keys[i - length:i]) in options:
                    return i
            return -1

        title_words = self.titles | self.credential_titles
        for i in [k for k in cap_idx if keys[k] in title_words]:
            if taken[i]:
                continue
            key = keys[i]
            j = i + 1 + (1 if i + 1 < n and words[i + 1] == "." else 0)
            # Honorific: "Dr. Foley" is a person even though Foley is also a catheter.
            if key in self.titles and is_cap(j) and (words[i][0].isupper()):
                end = name_run(j, strong=True)
                if end >= 0:
                    add(j, end, "NAME", "NAME.TITLED", "rule")
                    taken[i] = True
                    continue
            if key in self.credential_titles and is_cap(j) and words[i][0].isupper() and name_ok(j) and (
                    keys[j] in lex.first_names or keys[j] in lex.last_names or len(words[j]) == 1):
                end = name_run(j)
                if end >= 0:
                    add(j, end, "NAME", "NAME.STAFF", "rule")
                    taken[i] = True
        for i in [k for k in cap_idx if keys[k] in self.credentials]:
            if taken[i]:
                continue
            # Credential after a name: "J. Smith, RN"
            if words[i].isupper():
                j = i - 1
                if j >= 0 and words[j] == ",":
                    j -= 1
                end, start = j, -1
                while j >= 0 and j > end - 3 and (name_ok(j) or (is_cap(j) and len(words[j]) == 1) or words[j] == "."):
                    if words[j] != ".":
                        start = j
                    j -= 1
                comma = i > 0 and words[i - 1] == ","
                if start >= 0 and not any(taken[start:end + 1]) and (comma or end > start or any(
                        keys[k] in lex.first_names or keys[k] in lex.last_names for k in range(start, end + 1))):
                    add(start, end, "NAME", "NAME.STAFF", "rule")
        lower_first = [i for i in range(n) if not capital[i] and keys[i] in lex.first_names]

        def cued_names(strong_only: bool) -> None:
            for i in cap_idx + lower_first:
                if taken[i]:
                    continue
                word_ok = name_ok(i) or (words[i].islower() and not lex.is_common_word(keys[i]))
                if not word_ok:
                    continue
                j = i
                while j > 0 and words[j - 1] in (",", ":", "'", "s") and j > i - 2:
                    j -= 1
                strong = cue_at(j, self.name_cues) >= 0
                weak = not strong and not strong_only and cue_at(j, self.weak_name_cues) >= 0
                if not (strong or weak):
                    continue
                if weak and lex.is_name_word(keys[i]):  # "with CHILL", "by Southern": words more than names
                    continue
                if len(words[i]) == 1 and i + 1 < n and (words[i + 1] == "/" or tokens[i + 1][0] == tokens[i][1]):
                    continue  # "c/o", "X2664": an abbreviation or a code, not an initial
                word_ok = name_ok(i) or (strong and words[i].islower())
                in_lexicon = keys[i] in lex.first_names or keys[i] in lex.last_names or len(words[i]) == 1
                if word_ok and (strong or in_lexicon):
                    end = name_run(i) if is_cap(i) else i
                    add(i, max(end, i), "NAME", "NAME.CUED", "rule")

        # An initial and a surname: "W. Nakamura-Reyes".
        for i in cap_idx:
            if (i + 2 < n and not taken[i] and len(words[i]) == 1 and words[i].isupper() and words[i + 1] == "."
                    and len(words[i + 2]) > 1 and not words[i + 2].isupper() and is_title_case(i + 2)
                    and name_ok(i + 2) and not taken[i + 2] and tokens[i + 2][0] - tokens[i + 1][1] <= 1):
                end = name_run(i + 2)
                add(i, max(end, i + 2), "NAME", "NAME.INITIAL", "rule")
        cued_names(strong_only=True)
        self._cued_any_case(words, keys, taken, add, cue_at)
        self._facilities(words, keys, taken, cap_idx, is_cap, add)
        self._places(tokens, words, keys, taken, cap_idx, is_cap, name_ok, add, cue_at)
        self._places_any_case(tokens, words, keys, taken, add, cue_at)
        self._hospital_abbreviations(tokens, words, keys, taken, add, cue_at)
        cued_names(strong_only=False)
        self._names_by_evidence(tokens, words, keys, taken, add)
        model_candidates = []
        for i in cap_idx:
            if taken[i] or not is_cap(i) or not is_title_case(i) or len(words[i]) < 3:
                continue
            key = keys[i]
            if followed_by_medical_head(i) or key in lex.eponyms or key in lex.shorthand:
                continue
            common = lex.is_common_word(key)
            sentence_start = i == 0 or words[i - 1] in _SENTENCE_BREAKS
            if not common and not words[i].isascii():  # "Muñoz", "Lepistö": English clinical words are ASCII
                add(i, i, "NAME", "NAME.LEXICON", "lexicon")
            elif not common and key in lex.first_names:
                end = i
                if i + 1 < n and is_cap(i + 1) and not taken[i + 1] and (
                        keys[i + 1] in lex.last_names or name_ok(i + 1)):
                    end = i + 1
                add(i, end, "NAME", "NAME.LEXICON", "lexicon")
            elif not common and key in lex.last_names and not sentence_start:
                add(i, i, "NAME", "NAME.LEXICON", "lexicon")
            elif not common or (key in lex.first_names or key in lex.last_names) and not key in lex.stop_words:
                model_candidates.append(i)
        if self.model is not None and model_candidates:
            feats = [token_features(words, keys, i, lex, self.feature_cues) for i in model_candidates]
            probs = self.model.probabilities(feats)
            for i, row in zip(model_candidates, probs):
                best = int(row[1:].argmax()) + 1
                # A capitalised word opening a sentence is usually just a word: ask for more evidence.
                threshold = self.model_threshold
                if i == 0 or words[i - 1] in _SENTENCE_BREAKS or keys[i] in lex.english_words:
                    # An everyday word ("Swallow", "Strong") is a name only on strong evidence.
                    threshold = max(threshold, self.sentence_start_threshold)
                if row[best] >= threshold and not taken[i]:
                    label = self.model.labels[best]
                    add(i, i, label, f"{label}.MODEL", "model", float(row[best]))
        self._repeated_names(spans, token_spans, tokens, words, keys, taken, add)
        self._extend_names(spans, token_spans, tokens, words, keys, taken)
        return spans

    def cued_name_word(self, word: str, key: str, strong: bool, title: bool = False) -> bool:
        """Whether a token of any case, just after a name cue, is a name ("wife mary", "per dr smith", "DTR ANN").

        Census names count unless a vocabulary knows the word; given names that are everyday words ("rose",
        "bill") and words no vocabulary knows count only after a strong cue (a relative, "spoke with", "dr").
        """
        lex = self.lex
        if len(word) < 2 or not word[0].isalpha() or key in lex.stop_words or key in self.never_names:
            return False
        if key in self.cued_only_names:
            return strong
        in_names = key in lex.first_names or key in lex.last_names
        if strong and in_names and key not in lex.english_words and (key not in lex.clinical_words or title):
            return True  # "dr smith", "wife mary", "per dr white": an eponym, ICD or clinical word still counts
        if lex.is_common_word(key):
            return False
        if in_names:
            return True
        # An unknown word: a name unless it looks like an inflected (mistyped) word.
        return strong and len(word) >= 3 and key.isalpha() and not lex.is_known_word(key) \
            and not key.endswith(("ed", "ing", "ly", "tion", "ment"))

    def unknown_word(self, key: str) -> bool:
        """A word no vocabulary knows and that does not look like an inflected (mistyped) word: a name's shape
        when a cue stands by ("okonkwo", "ndukwe")."""
        return (len(key) >= 3 and key.isalpha() and not self.lex.is_known_word(key) and key not in self.never_names
                and not key.endswith(("ed", "ing", "ly", "tion", "ment")))

    def _cued_any_case(self, words, keys, taken, add, cue_at) -> None:
        """Names in lower case or capitals after a cue or a title, and facilities after a facility cue."""
        n = len(words)

        def same_case(i: int, j: int) -> bool:
            return words[i].islower() == words[j].islower()

        def ordinary(i: int) -> bool:
            """A token that the title-case rules do not already judge: lower case or all capitals."""
            w = words[i]
            return w[0].isalpha() and (w.islower() or (len(w) > 1 and w.isupper()))

        ends = self.any_case_cue_ends
        for i in [k for k in range(1, n) if keys[k - 1] in ends or k > 1 and keys[k - 2] in ends]:
            if taken[i] or not ordinary(i):
                continue
            prev = keys[i - 1]
            j = i - 1 if words[i - 1] in (",", ":", "(") and i > 1 else i
            cue_key = keys[j - 1]
            if cue_key in self.lower_case_titles or (prev == "." and i > 1 and keys[i - 2] in self.lower_case_titles):
                if self.cued_name_word(words[i], keys[i], strong=True, title=True):
                    end = i
                    if i + 1 < n and ordinary(i + 1) and not taken[i + 1] and \
                            self.cued_name_word(words[i + 1], keys[i + 1], strong=False):
                        end = i + 1
                    add(i, end, "NAME", "NAME.TITLED", "rule")
                continue
            if cue_key in self.strong_cue_ends and cue_at(j, self.name_cues) >= 0:
                if self.cued_name_word(words[i], keys[i], strong=True):
                    end = i
                    if i + 1 < n and ordinary(i + 1) and not taken[i + 1] and same_case(i, i + 1) and (
                            keys[i + 1] in self.lex.last_names and
                            self.cued_name_word(words[i + 1], keys[i + 1], strong=False)
                            or self.unknown_word(keys[i + 1])):  # "wife aoife ndukwe": a surname no list holds
                        end = i + 1
                    add(i, end, "NAME", "NAME.CUED", "rule")
                continue
            # "from MGH", "at BIDMC": an unknown abbreviation after a bare "from"/"at" (the names after longer
            # cues, "lives at spaulding rehab", are _places_any_case's, which takes the whole name).
            if cue_key in self.facility_cue_ends and cue_at(j, self.facility_cues) >= 0:
                word, key = words[i], keys[i]
                if word.isupper() and 3 <= len(word) <= 6 and key.isalpha() and not self.lex.is_known_word(key) \
                        and key not in self.never_names and key not in self.lex.first_names:
                    if i + 1 < n and words[i + 1].isdigit() and len(words[i + 1]) <= 2 and cue_at(i, self.ward_cues) >= 0:
                        add(i, i + 1, "LOCATION", "LOCATION.UNIT", "rule")  # "CAME UP FROM FARR 10": a ward
                    else:
                        add(i, i, "LOCATION", "LOCATION.FACILITY", "rule")

    def _places_any_case(self, tokens, words, keys, taken, add, cue_at) -> None:
        """Places in lower-case and capitals text: "harwick valley medical center", "lives in framingham",
        "lives at hebrew seniorlife", wards with their number ("to finard 4 when bed avail")."""
        lex = self.lex
        n = len(words)

        def plain(i: int) -> bool:
            w = words[i]
            return w[0].isalpha() and not (w[0].isupper() and not w.isupper() and len(w) > 1)  # lower case or capitals

        def place_word(i: int) -> bool:
            """A word that can belong to a place name: not a stop, clinical, shorthand or cue word."""
            key = keys[i]
            return (words[i][0].isalpha() and len(key) > 1 and key not in lex.stop_words
                    and key not in lex.clinical_words and key not in lex.shorthand and key not in self.never_names)

        def evidence(i: int) -> bool:
            """A word no vocabulary knows, or a place or name of the lexicons that is no everyday word."""
            key = keys[i]
            return not lex.is_known_word(key) or (
                (key in lex.cities or key in lex.first_names or key in lex.last_names) and not lex.is_name_word(key))

        def abbreviation_like(i: int) -> bool:
            """"cnh", "SAH": a short token that is no vocabulary's abbreviation and no English word."""
            key = keys[i]
            return (3 <= len(key) <= 5 and key.isalpha() and key not in lex.shorthand and key not in lex.abbreviations
                    and key not in lex.stop_words and key not in lex.clinical_words and key not in self.never_names
                    and lex.word_zipf.get(key, 0.0) < 2.5)

        def after_cue(i: int) -> tuple[bool, bool]:
            """(any facility or strong location cue ends just before i, a multi-word one does)."""
            c = i - 1 if i > 1 and words[i - 1] == "(" else i
            multi = cue_at(c, self.strong_location_cues) >= 0 or any(
                c - k >= 0 and tuple(keys[c - k:c]) in self.facility_cues[k] for k in self.facility_cues if k > 1)
            return multi or cue_at(c, self.facility_cues) >= 0, multi

        def bed_move(i: int) -> bool:
            """A ward cue of several words before i ("came up from"), or a bed move after its number ("when bed")."""
            return any(i - k >= 0 and tuple(keys[i - k:i]) in self.ward_cues[k] for k in self.ward_cues if k > 1) \
                or i + 2 < n and keys[i + 2] in _BED_MOVE_WORDS

        heads = frozenset(ctx_head for ps in self.location_heads.values() for ctx_head in ps) - {
            (h,) for h in self.organization_heads}
        head_lengths = sorted(self.location_heads, reverse=True)
        starts, cue_ends = self.location_head_starts, self.place_cue_ends
        candidates = [i for i in range(n) if keys[i] in starts or i + 1 < n and (
            words[i + 1].isdigit() or keys[i + 1] in self.ward_heads)
                      or i > 0 and keys[i - 1] in cue_ends or i > 1 and words[i - 1] == "(" and keys[i - 2] in cue_ends]
        # "transferred from osh (brigham and women's)", "seen at OSH (St. Elsewhere)": a short bracket after a
        # facility cue is a facility whole, connectors and possessives included
        for i in range(2, n):
            if words[i - 1] != "(" or keys[i - 2] not in cue_ends or not after_cue(i)[0] or not place_word(i):
                continue
            close = next((k for k in range(i + 1, min(n, i + 7)) if words[k] in (")", "\n")), -1)
            inside = range(i, close)
            if close < 0 or words[close] != ")" or any(
                    keys[k] in lex.shorthand or not (words[k][0].isalnum() or words[k][0] in "'\u2019&.-")
                    for k in inside if (keys[k],) not in heads) or not any(
                    (keys[k],) in heads or words[k][0].isalpha() and (evidence(k) or keys[k] in lex.cities)
                    for k in inside):  # "osh (intubated there)" stays
                continue
            add(i, close - 1, "LOCATION", "LOCATION.CUED", "rule")
        for i in candidates:
            if taken[i] or not words[i][0].isalpha():
                continue
            key = keys[i]
            # "pt was on Halloran ward", "back to farr unit": a word no vocabulary knows (or a Census name that
            # is no everyday word) just before a ward word, in any case
            if i + 1 < n and keys[i + 1] in self.ward_heads and len(key) >= 4 and place_word(i) and evidence(i) \
                    and not lex.is_frequent_word(key) and key not in lex.abbreviations and key not in lex.eponyms \
                    and tokens[i + 1][0] - tokens[i][1] <= 1:
                add(i, i, "LOCATION", "LOCATION.UNIT", "rule")
                continue
            # "to finard 4 when bed avail", "came up from Farr 10"
            # (a word some vocabulary knows, only when it is rare and a bed move is spoken of: "came up from
            # deaconess 3", "to deaconess 3 when bed available", not "on coreg 25")
            if i + 1 < n and words[i + 1].isdigit() and len(words[i + 1]) <= 2 and cue_at(i, self.ward_cues) >= 0 \
                    and place_word(i) and (key in self.directions or (evidence(i) or lex.word_zipf.get(key, 0.0) < 3.0
                                                                       and key not in lex.abbreviations
                                                                       and key not in lex.medical_words
                                                                       and bed_move(i))
                                           and not lex.is_frequent_word(key)) \
                    and key not in self.ratio_cues and not re.match(r"(?:%|mg|ml|cc|mcg|units?|min|hrs?|x\b|/|\.\d)",
                                                                    "".join(words[i + 2:i + 3]).lower()):
                add(i, i + 1, "LOCATION", "LOCATION.UNIT", "rule")
                continue
            if not plain(i):
                continue
            # "<name words> <head>": "harwick valley medical center", "spaulding rehab", "MASS GENERAL"
            if key in self.location_head_starts and i > 0:
                length = next((k for k in head_lengths if i + k <= n and tuple(keys[i:i + k]) in heads), 0)
                if length:
                    start = i
                    while start - 1 >= 0 and i - start < 3 and not taken[start - 1] and plain(start - 1) and (
                            place_word(start - 1) or (keys[start - 1] == "and" and start - 2 >= 0
                                                       and place_word(start - 2))):
                        start -= 1
                    if start < i and (any(evidence(k) for k in range(start, i) if keys[k] != "and")
                                      or after_cue(start)[0]):  # "followed by cards at mass general"
                        end = i + length - 1
                        add(start, end, "LOCATION", "LOCATION.FACILITY", "rule")
                        continue
            c = i - 2 if i > 1 and words[i - 1] == "(" else i - 1
            if c < 0 or keys[c] not in self.place_cue_ends:
                continue
            _, multi = after_cue(i)
            # "lives in framingham", "lives at hebrew seniorlife", "tx from cnh micu", "osh (cape cod hospital)"
            if multi and place_word(i) and (evidence(i) or key in lex.cities or abbreviation_like(i)
                                            or (i + 1 < n and (keys[i + 1],) in heads)) \
                    and not lex.is_frequent_word(key):
                end, k = i, i + 1
                # Words up to a head ("harwick valley medical center"), else only words with place evidence.
                while k < n and k - i <= 3 and plain(k) and not taken[k] and tokens[k][0] - tokens[k - 1][1] <= 1 and (
                        keys[k] in starts and keys[k] not in lex.stop_words
                        or place_word(k) and not lex.is_frequent_word(keys[k])):
                    if keys[k] in starts or evidence(k) and end == k - 1:
                        end = k
                    k += 1
                add(i, end, "LOCATION", "LOCATION.CUED", "rule")

    def clinical_abbreviation(self, key: str) -> bool:
        """A short token some clinical or everyday vocabulary means ("icu", "ct", "osh", "rest", "ma").

        The English whitelist holds thousands of rare abbreviations ("rgh", "bmc", "lch") that real notes use
        for hospitals, so only the clinical lists and the word frequencies count here."""
        lex = self.lex
        return (key in lex.shorthand or key in lex.abbreviations or key in lex.clinical_words
                or key in lex.medical_words or key in lex.stop_words or key in self.never_names
                or key in lex.states or key in lex.countries or key in lex.first_names
                or key in self.credentials or lex.word_zipf.get(key, 0.0) >= 3.0)

    def _hospital_abbreviations(self, tokens, words, keys, taken, add, cue_at) -> None:
        """"from RGH ED", "seen at osh (jmh)", "nvmc records requested": a short abbreviation no clinical
        vocabulary knows, after a facility cue or before a hospital context word (ED, MICU, records, films).

        Capitals, or in lower case a token without a vowel ("rgh")."""
        n = len(words)
        cue_ends, context_after = self.facility_cue_ends, self.facility_context_after
        for i, w in enumerate(words):
            if not 2 <= len(w) <= 5 or taken[i]:
                continue
            # cheap set look-ups first: most short tokens stand by no cue at all
            if not (i > 0 and (keys[i - 1] in cue_ends or i > 1 and words[i - 1] == "(" and keys[i - 2] in cue_ends)
                    or i + 1 < n and keys[i + 1] in context_after):
                continue
            if not (w.isascii() and w.isalpha()):
                continue
            key = keys[i]
            if not w.isupper() and not (w.islower() and len(w) >= 3 and not any(c in "aeiou" for c in key)):
                continue  # lower case: only the shape of an abbreviation ("rgh", "bmc"), not of a word
            if i + 1 < n and words[i + 1] == "(" and tokens[i + 1][0] == tokens[i][1]:
                continue  # "GABA(A)"
            if self.clinical_abbreviation(key):
                continue
            j = i - 1 if i > 1 and words[i - 1] == "(" else i
            after_cue = cue_at(j, self.facility_cues) >= 0
            before_context = (i + 1 < n and keys[i + 1] in self.facility_context_after
                              and tokens[i + 1][0] - tokens[i][1] <= 1 and (i == 0 or not words[i - 1][0].isdigit()))
            if after_cue or before_context:
                add(i, i, "LOCATION", "LOCATION.FACILITY", "rule")

    def _names_by_evidence(self, tokens, words, keys, taken, add) -> None:
        """Names the title-case rules miss in lower-case and capitals text, decided by lexicon evidence.

        - a Census name that no vocabulary knows ("stevenson", "WOLFF"), in any case;
        - a first and a last name side by side ("kathleen fox", "stoner, cheri") when one of the two is such
          an unknown name and the other is a Census name that is no clinical word;
        - a name just before a relation in brackets ("ray (wife)").
        """
        lex = self.lex
        n = len(words)

        def word_at(i: int) -> bool:
            return 0 <= i < n and words[i][0].isalpha() and len(words[i]) > 1

        def unknown_name(i: int) -> bool:
            key = keys[i]
            known = self._unknown_names.get(key)
            if known is None:
                known = self._unknown_names[key] = (
                    len(key) >= 3 and (key in lex.first_names or key in lex.last_names)
                    and not lex.is_known_word(key) and not lex.is_name_word(key) and key not in self.never_names
                    # A rare Census surname is as likely a rare word ("tarry", "leghorn") when no cue stands by.
                    and lex.name_rank.get(key, COMMON_NAME_RANK) < COMMON_NAME_RANK
                    and key not in self.cued_only_names)
            return known and word_at(i)

        def plain_name(i: int, names: frozenset[str]) -> bool:
            """A Census name that is not a stop word, shorthand, clinical word or cue word."""
            key = keys[i]
            return (word_at(i) and key in names and key not in lex.stop_words and key not in lex.clinical_words
                    and key not in self.never_names and key not in self.medical_heads and not lex.is_frequent_word(key))

        def plain_census(i: int) -> bool:
            """A Census name (any case) that is no stop, shorthand, clinical or cue word."""
            key = keys[i]
            return (word_at(i) and len(key) >= 2 and (key in lex.first_names or key in lex.last_names
                                                      or key in self.cued_only_names)
                    and key not in lex.stop_words and key not in lex.shorthand and key not in self.never_names
                    and (key not in lex.clinical_words or key in self.cued_only_names))

        def adjacent(i: int, j: int) -> bool:
            return tokens[j][0] - tokens[i][1] <= 2 and "\n" not in words[i:j + 1]

        def name_ends(i: int) -> bool:
            """The note goes on as after a name: a comma, a line end, "re", a credential or a name's verb."""
            nxt = i + 1
            return (nxt >= n or words[nxt] in (",", ";", ")", "\n") or keys[nxt] == "re"
                    or keys[nxt] in self.name_followers or keys[nxt] in _NAME_CREDENTIALS)

        def before_credential(i: int) -> bool:
            """"knight, rn", "Frost, RN": a comma and a nurse's or doctor's credential after the word."""
            return i + 2 < n and words[i + 1] == "," and keys[i + 2] in _NAME_CREDENTIALS and (
                i + 3 >= n or not words[i + 3][0].isalpha() or words[i + 3] == "\n")

        def same_case(i: int, j: int) -> bool:
            a, b = words[i], words[j]
            return a.islower() == b.islower() or (a[0].isupper() and b[0].isupper())

        def census_key(key: str) -> bool:
            """plain_census without the position test, cached per key: every rule below needs such a word."""
            hit = self._census_keys.get(key)
            if hit is None:
                hit = self._census_keys[key] = (
                    len(key) >= 2 and (key in lex.first_names or key in lex.last_names or key in self.cued_only_names)
                    and key not in lex.stop_words and key not in lex.shorthand and key not in self.never_names
                    and (key not in lex.clinical_words or key in self.cued_only_names))
            return hit

        census = [i for i in range(n) if census_key(keys[i])]
        relation = [i - 1 for i in range(1, n - 2) if words[i] == "(" and words[i + 2] == ")"]
        candidates = sorted({j for i in census for j in (i - 2, i - 1, i) if j >= 0} | set(relation))
        for i in candidates:
            if taken[i] or not word_at(i):
                continue
            nxt = i + 1
            # "first last"
            if nxt < n and not taken[nxt] and word_at(nxt) and adjacent(i, nxt) and same_case(i, nxt) and (
                    (unknown_name(i) and keys[i] in lex.first_names and plain_name(nxt, lex.last_names))
                    or (unknown_name(nxt) and keys[nxt] in lex.last_names and (
                        plain_name(i, lex.first_names) or keys[i] in self.cued_only_names))):
                add(i, nxt, "NAME", "NAME.LEXICON", "lexicon")
                continue
            # "last, first"
            if i + 2 < n and words[nxt] == "," and not taken[i + 2] and word_at(i + 2) and same_case(i, i + 2) and (
                    (unknown_name(i) and keys[i] in lex.last_names and (
                        plain_name(i + 2, lex.first_names) or keys[i + 2] in self.cued_only_names))
                    or (unknown_name(i + 2) and keys[i + 2] in lex.first_names and plain_name(i, lex.last_names))):
                add(i, i, "NAME", "NAME.LEXICON", "lexicon")
                add(i + 2, i + 2, "NAME", "NAME.LEXICON", "lexicon")
                continue
            # "as per swift, hold tf", "report from knight, rn", "paged frost re: k": a Census name, everyday
            # word or not, after a one-word weak cue and where a name ends
            if plain_census(i) and not taken[i] and not lex.is_frequent_word(keys[i]) and (
                    i > 0 and keys[i - 1] in _WEAK_CUE_WORDS and name_ends(i) and (
                        keys[i - 1] in _NAMING_CUE_WORDS or not lex.is_name_word(keys[i])) or before_credential(i)):
                add(i, i, "NAME", "NAME.CUED", "rule")
                continue
            # "chan paged re: bp", "vera rn covering", "helen states she wants"
            if nxt < n and keys[nxt] in self.post_name_cues and plain_census(i) and not taken[i] \
                    and (nxt + 1 >= n or keys[nxt] not in self.credentials or not words[nxt + 1][0].isupper()
                         or words[nxt + 1].isupper()):
                add(i, i, "NAME", "NAME.CUED", "rule")
                continue
            # "pt (wolff) refusing", "ortho (hutchison/lloyd)": names in brackets after a patient or service word
            if i >= 2 and words[i - 1] in ("(", "/") and plain_census(i) and (
                    words[i - 1] == "(" and (keys[i - 2] in self.bracket_name_cues or keys[i - 2] in lex.shorthand)
                    or words[i - 1] == "/" and i >= 4 and words[i - 3] == "(" and (
                        keys[i - 4] in self.bracket_name_cues or keys[i - 4] in lex.shorthand)):
                if i + 1 < n and words[i + 1] in (")", "/"):
                    add(i, i, "NAME", "NAME.CUED", "rule")
                    continue
            # "call ray at 617...", "pt joy resting comfortably"
            if 0 < i and nxt < n and plain_census(i) and (
                    keys[i - 1] == "call" and keys[nxt] == "at" and nxt + 1 < n and words[nxt + 1][:1] in "(0123456789"
                    or keys[i - 1] in ("pt", "patient") and keys[nxt].endswith("ing") and len(keys[nxt]) > 5
                    and not lex.is_frequent_word(keys[i])):  # a number to call is evidence enough: "call bill at"
                add(i, i, "NAME", "NAME.CUED", "rule")
                continue
            # "ray (wife)"
            if i + 3 < n and words[nxt] == "(" and words[i + 3] == ")" and keys[i + 2] in self.strong_cue_ends \
                    and (keys[i] in lex.first_names or keys[i] in lex.last_names or not lex.is_known_word(keys[i])) \
                    and keys[i] not in lex.stop_words and keys[i] not in self.never_names:
                add(i, i, "NAME", "NAME.CUED", "rule")
                continue
            if unknown_name(i) and not words[i][0].isupper() or (unknown_name(i) and words[i].isupper()):
                add(i, i, "NAME", "NAME.LEXICON", "lexicon")
        # "per okonkwo, hold tf", "paged adebayo re: k": a word no vocabulary knows after a naming cue word
        for i in range(1, n):
            if not taken[i] and keys[i - 1] in _NAMING_CUE_WORDS and word_at(i) and len(keys[i]) >= 4 \
                    and self.unknown_word(keys[i]) and name_ends(i):
                add(i, i, "NAME", "NAME.CUED", "rule")

    def _repeated_names(self, spans, token_spans, tokens, words, keys, taken, add) -> None:
        """A word found as a name by a rule or a lexicon is a name again elsewhere in the note, in any case
        ("dr cannon here ... cannon aware"); an everyday word ("honey", "rose") only before a word that
        follows names ("honey asks", "rose called"). The token model's guesses are not repeated."""
        lex = self.lex
        names = {keys[k] for span, (i, j) in zip(spans, token_spans) if span.type == "NAME" and span.source != "model"
                 for k in range(i, j + 1) if len(keys[k]) >= 3 and words[k][0].isalpha()}
        names = {key for key in names if key not in lex.stop_words and key not in lex.shorthand
                 and key not in lex.clinical_words and key not in lex.abbreviations and key not in self.never_names
                 and key not in self.medical_heads and not lex.is_frequent_word(key)}
        if not names:
            return
        n = len(words)
        for i in range(n):
            key = keys[i]
            if key not in names or taken[i]:
                continue
            if lex.is_name_word(key) and not (i + 1 < n and keys[i + 1] in self.name_followers):
                continue
            add(i, i, "NAME", "NAME.REPEATED", "rule")

    def _extend_names(self, spans, token_spans, tokens, words, keys, taken) -> None:
        """Grow each name over the adjacent capitalised words that are not common words ("Jarmila Chloupkova")."""
        lex = self.lex
        n = len(tokens)

        def joinable(k: int, prev: int) -> bool:
            w = words[k]
            return (not taken[k] and w[0].isupper() and w[0].isalpha() and not (len(w) > 1 and w.isupper())
                    and keys[k] not in lex.stop_words and keys[k] not in lex.clinical_words
                    and (k < prev or keys[k] in lex.last_names or not lex.is_common_word(keys[k]))
                    and tokens[k][0] - tokens[prev][1] == 1
                    and keys[k] not in self.medical_heads)

        def same_case_surname(k: int, prev: int) -> bool:
            """"margaret okafor", "MARY OKAFOR": a Census surname in the case of the name before it."""
            w, key = words[k], keys[k]
            return (not taken[k] and w[0].isalpha() and len(w) > 1 and tokens[k][0] - tokens[prev][1] == 1
                    and (w.islower() and words[prev].islower() or w.isupper() and words[prev].isupper())
                    and key in lex.last_names and key not in lex.stop_words and key not in lex.clinical_words
                    and key not in lex.shorthand and key not in self.never_names and (
                        not lex.is_name_word(key) and key not in lex.abbreviations or closes_name(k)))

        def closes_name(k: int) -> bool:
            """A common surname that is also a word, where a name ends: "alfreda young, 201...", "joan strong rn"."""
            after = words[k + 1] if k + 1 < n else "\n"
            return lex.name_rank.get(keys[k], COMMON_NAME_RANK) < 2000 and (
                after in (",", "(", "\n", ";") or cached_word_key(after) in self.credentials
                or k + 1 < n and tokens[k + 1][0] - tokens[k][1] >= 2)

        for index, (i, j) in enumerate(token_spans):
            span = spans[index]
            if span.type != "NAME":
                continue
            end = j
            if words[end].islower() or words[end].isupper():
                if end + 1 < n and same_case_surname(end + 1, end):
                    end += 1
                    taken[end] = True
            while end + 1 < n and end - i < 3 and joinable(end + 1, end):
                end += 1
                taken[end] = True
            start = i
            if start > 0 and joinable(start - 1, start - 1) and tokens[start][0] - tokens[start - 1][1] == 1 and (
                    keys[start - 1] in lex.first_names or not words[start - 1].isascii()):
                start -= 1
                taken[start] = True
            if (start, end) != (i, j):
                spans[index] = PhiSpan(tokens[start][0], tokens[end][1], span.type, span.subtype, span.source,
                                       span.score)

    def _facilities(self, words, keys, taken, cap_idx, is_cap, add) -> None:
        """"Beth Israel Deaconess Medical Center", "Acme Corp": a capitalised run ending in a place head."""
        n = len(words)
        head_lengths = sorted(self.location_heads, reverse=True)
        for i in [k for k in cap_idx if keys[k] in self.location_head_starts]:
            if taken[i] or (len(words[i]) > 1 and words[i].isupper()):  # capitals: _places_any_case weighs them
                continue
            for length in head_lengths:
                if i + length <= n and tuple(keys[i:i + length]) in self.location_heads[length] and is_cap(i):
                    start = i
                    while start - 1 >= 0 and (is_cap(start - 1) and not (  # "St. Elsewhere", not "LIVES AT"
                            keys[start - 1] in self.lex.stop_words and words[start - 1].isupper())
                                              or words[start - 1] in (".", "&")
                                              or keys[start - 1] == "of" and is_cap(start - 2)) \
                            and not taken[start - 1] and i - start < 5:
                        start -= 1
                    while start < i and not is_cap(start):
                        start += 1
                    if start < i and any(keys[k] not in self.lex.stop_words and keys[k] not in self.lex.clinical_words
                                         for k in range(start, i) if words[k][0].isalpha() and len(words[k]) > 1):
                        org = keys[i] in self.organization_heads
                        end = i + length - 1
                        while True:  # "Westfield VA Medical Center": heads in a row
                            more = next((k for k in head_lengths if end + 1 + k <= n and is_cap(end + 1)
                                         and tuple(keys[end + 1:end + 1 + k]) in self.location_heads[k]), 0)
                            if not more:
                                break
                            end += more
                        add(start, end, "LOCATION", "LOCATION.ORGANIZATION" if org else "LOCATION.FACILITY", "rule")
                    break

    def _places(self, tokens, words, keys, taken, cap_idx, is_cap, name_ok, add, cue_at) -> None:
        lex = self.lex
        n = len(tokens)
        max_len = min(lex.max_place_tokens, 4)
        cap_idx = [k for k in cap_idx if keys[k] in self.place_starts or keys[k - 1] in self.location_cues]
        for i in cap_idx:
            if taken[i]:
                continue
            strong = cue_at(i, self.strong_location_cues) >= 0
            weak = i > 0 and keys[i - 1] in self.location_cues
            matched = 0
            for length in range(max_len, 0, -1):
                if i + length > n or not all(is_cap(k) or keys[k] in ("of", "de", "la") for k in range(i, i + length)):
                    continue
                phrase = " ".join(keys[i:i + length])
                if phrase in lex.cities or phrase in lex.states or phrase in lex.countries:
                    if length > 1 or not lex.is_clinical_word(phrase):
                        matched = length
                        break
            if matched:
                after_first_name = i > 0 and is_cap(i - 1) and keys[i - 1] in lex.first_names
                single_name = matched == 1 and keys[i] not in lex.countries and (
                    keys[i] in lex.first_names or keys[i] in lex.last_names or after_first_name)
                if not single_name or strong or weak:
                    add(i, i + matched - 1, "LOCATION", "LOCATION.CITY", "lexicon")
                continue
            if strong and name_ok(i):
                end = i
                while end + 1 < n and end - i < 2 and name_ok(end + 1):
                    end += 1
                add(i, end, "LOCATION", "LOCATION.CUED", "rule")

    # ------------------------------------------------------------------ replacement
    def person_key(self, doc: Doc) -> str:
        return f"person:{doc.person_id}" if doc.person_id is not None else f"note:{doc.note_id}"

    def date_shift_days(self, doc: Doc) -> int:
        """The person's keyed date offset (never 0): the one the text gets unless the caller passes another."""
        return self.surrogates.date_shift_days(self.person_key(doc))

    def deidentify(self, doc: Doc, *, date_shift_days: int | None = None) -> DeidResult:
        """``date_shift_days``: the offset for this note's dates (a site's own per-person table); else keyed."""
        text = doc.text
        phi = self.detect(text, doc.note_date)
        person = self.person_key(doc)
        shift = None
        if self.mode == "surrogate":
            shift = self.date_shift_days(doc) if date_shift_days is None else date_shift_days
        reference = _reference_date(doc.note_date)
        pieces, replacements, cursor = [], [], 0
        for span in phi:
            original = text[span.start:span.end]
            replacement = f"[{span.type}]" if self.mode == "tag" else self._surrogate(
                person, span, original, shift, reference)
            pieces.append(text[cursor:span.start])
            pieces.append(replacement)
            replacements.append(replacement)
            cursor = span.end
        pieces.append(text[cursor:])
        return DeidResult("".join(pieces), phi, replacements, shift)

    def _surrogate(self, person: str, span: PhiSpan, original: str, shift: int, reference: date) -> str:
        s = self.surrogates
        if span.source == "placeholder":
            original = _placeholder_content(original)
            if span.type == "DATE" and _DATE_CONTENT_RE.fullmatch(original):
                subtype = "DATE.YMD" if re.match(r"\d{4}", original) else "DATE.MD" if original.count("-") + original.count("/") == 1 else "DATE.MDY"
                return s.date(person, original.replace("-", "/") if subtype != "DATE.YMD" else original, subtype, shift, reference)
            if span.type == "DATE":
                return s.date(person, reference.isoformat(), "DATE.YMD", shift, reference)
            if span.type in ("ID", "PHONE", "AGE"):
                original = {"ID": "1234567", "PHONE": "617-555-0100", "AGE": "90"}[span.type] if not any(
                    ch.isdigit() for ch in original) else original
            elif span.type == "NAME":
                return s.placeholder_name(person, original)
        if span.type == "NAME":
            return s.name(person, original)
        if span.type == "DATE":
            return s.date(person, original, span.subtype, shift, reference)
        if span.type == "LOCATION":
            return s.location(person, original, span.subtype)
        if span.type == "PHONE":
            return s.phone(person, original)
        if span.type == "EMAIL":
            return s.email(person, original)
        if span.type == "URL":
            return s.url(person, original)
        if span.type == "IP":
            return s.ip(person, original)
        if span.type == "AGE":
            return s.age(original)
        return s.identifier(person, original, span.subtype)

    def __call__(self, doc: Doc) -> Doc:
        doc.phi = self.detect(doc.text, doc.note_date)
        return doc


def _placeholder_content(text: str) -> str:
    return text[3:-3].strip() if text.startswith("[**") else text


def _reference_date(note_date: str | None) -> date:
    if note_date:
        try:
            return date.fromisoformat(str(note_date)[:10])
        except ValueError:
            pass
    return date(2000, 1, 1)


def _resolve(candidates: list[PhiSpan]) -> list[PhiSpan]:
    """Keep non-overlapping spans, preferring the more reliable detector, then the longer span."""
    chosen: list[PhiSpan] = []
    for span in sorted(candidates, key=lambda s: (_PRIORITY.get(s.source, 9), s.start - s.end, s.start)):
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)
