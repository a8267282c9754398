"""PHI detection: placeholders, patterns, then the cue, lexicon and token-model rules over the tokens.

The name rules live in ``name_rules`` and the place rules in ``place_rules`` (mixins of ``Detector``);
``deidentifier.Deidentifier`` adds the replacement."""

from __future__ import annotations

import re

from notenlp.deid.features import TOKEN_RE, cached_word_key, token_features, tokenize, word_key
from notenlp.deid.model import DEFAULT_MODEL, load_model
from notenlp.deid.name_context import NameContext
from notenlp.deid.name_rules import NameRules
from notenlp.deid.place_context import PlaceContext
from notenlp.deid.place_rules import PlaceRules
from notenlp.deid.resources import WHOLE, load_context, load_lexicons, load_patterns
from notenlp.doc import PhiSpan

PLACEHOLDER_RE = re.compile(r"\[\*\*(.*?)\*\*\]|(?<!_)_{3,}(?!_)", re.DOTALL)
DATE_CONTENT_RE = re.compile(r"\d{1,4}(?:[-/]\d{1,4}){1,2}")
_FRACTION_DENOMINATORS = {"2", "3", "4", "5", "10"}  # halves .. fifths, pain scores
# Detector precedence when spans overlap: lower wins.
_PRIORITY = {"placeholder": 0, "pattern": 1, "rule": 2, "lexicon": 3, "model": 4}
_SENTENCE_BREAKS = {"<s>", ".", ":", "\n", "!", "?", ";", "-", "*", "#"}


def _phrases(entries: list[str]) -> dict[int, frozenset[tuple[str, ...]]]:
    """Cue phrases grouped by token count, as token tuples."""
    by_len: dict[int, set[tuple[str, ...]]] = {}
    for entry in entries:
        words = tuple(word_key(m.group()) for m in TOKEN_RE.finditer(entry))
        by_len.setdefault(len(words), set()).add(words)
    return {n: frozenset(v) for n, v in by_len.items()}


class Detector(NameRules, NameContext, PlaceRules, PlaceContext):
    """Finds PHI spans in a note's text (``detect``)."""

    def __init__(self, *, model: str | None = DEFAULT_MODEL, model_threshold: float = 0.5,
                 sentence_start_threshold: float = 0.8, detect_times: bool = False,
                 patterns: str = "deid/patterns.json", context: str = "deid/context.json",
                 lexicons: str = "deid"):
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
        self._name_shape_cache: dict[str, bool] = {}  # name_context.name_shaped, per key
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
        if DATE_CONTENT_RE.fullmatch(stripped) or re.fullmatch(r"(?:19|20|21)\d\d", stripped):
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
        self._cued_wards(tokens, words, keys, taken, add, cue_at)
        self._cued_facilities(tokens, words, keys, taken, add, cue_at)
        self._headed_places(tokens, words, keys, taken, add)
        self._cued_towns(tokens, words, keys, taken, add)
        self._street_numbers(tokens, words, keys, taken, add)
        self._places(tokens, words, keys, taken, cap_idx, is_cap, name_ok, add, cue_at)
        self._places_any_case(tokens, words, keys, taken, add, cue_at)
        self._hospital_abbreviations(tokens, words, keys, taken, add, cue_at)
        cued_names(strong_only=False)
        self._names_by_evidence(tokens, words, keys, taken, add)
        self._names_in_context(tokens, words, keys, taken, add)
        model_candidates = []
        for i in cap_idx:
            if taken[i] or not is_cap(i) or not is_title_case(i) or len(words[i]) < 3:
                continue
            key = keys[i]
            if followed_by_medical_head(i) or key in lex.eponyms or key in lex.shorthand or key in self.ratio_cues:
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
        self._names_beside_names(spans, token_spans, tokens, words, keys, taken, add)
        self._extend_names(spans, token_spans, tokens, words, keys, taken)
        return spans



def _resolve(candidates: list[PhiSpan]) -> list[PhiSpan]:
    """Keep non-overlapping spans, preferring the more reliable detector, then the longer span."""
    chosen: list[PhiSpan] = []
    for span in sorted(candidates, key=lambda s: (_PRIORITY.get(s.source, 9), s.start - s.end, s.start)):
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)
