"""Place rules of the detector (a mixin of ``detector.Detector``): facilities, towns, wards and hospital
abbreviations, in title case, lower case and capitals."""

from __future__ import annotations

import re

from notenlp.deid.place_context import FACILITY_SHAPE

_BED_MOVE_WORDS = frozenset({"when", "at", "prior", "pending", "today", "tonight", "tmrw", "tomorrow", "overnight"})


class PlaceRules:
    """Place rules; ``detector.Detector`` holds the lexicons and cue tables they read."""

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

    def hospital_shaped(self, key: str) -> bool:
        """A hospital abbreviation's shape ("smh", "ummc", "ajh") that no clinical list holds: frequent as a token
        on the web ("smh") or not, it is a hospital after a facility cue or before a hospital context word."""
        lex = self.lex
        return (FACILITY_SHAPE.fullmatch(key) is not None and key not in lex.shorthand and key not in lex.abbreviations
                and key not in lex.clinical_words and key not in lex.medical_words and key not in lex.stop_words
                and key not in lex.states and key not in self.never_names and key not in self.credentials
                and lex.word_zipf.get(key, 0.0) < 4.0)

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
            shaped = self.hospital_shaped(key)
            if not w.isupper() and not (w.islower() and (len(w) >= 3 or shaped and i + 1 < n and keys[i + 1] in context_after)
                                        and (shaped or not any(c in "aeiou" for c in key))):
                continue  # lower case: only the shape of an abbreviation ("rgh", "ummc"), not of a word
            if i + 1 < n and words[i + 1] == "(" and tokens[i + 1][0] == tokens[i][1]:
                continue  # "GABA(A)"
            if self.clinical_abbreviation(key) and not shaped:
                continue
            j = i - 1 if i > 1 and words[i - 1] == "(" else i
            after_cue = cue_at(j, self.facility_cues) >= 0
            before_context = (i + 1 < n and keys[i + 1] in self.facility_context_after
                              and tokens[i + 1][0] - tokens[i][1] <= 1 and (i == 0 or not words[i - 1][0].isdigit()))
            if after_cue or before_context:
                add(i, i, "LOCATION", "LOCATION.FACILITY", "rule")

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
