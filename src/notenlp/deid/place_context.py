"""Places told by the words around them (issue #21): a facility's whole name after a facility cue, in any
case, up to its head ("sent from good samaritan medical center ed") or its town ("screening for kindred
waltham", "prev at life care center of stoneham"), and a ward with its number after a ward cue of several
words ("transferred to gray 4", "will go to White 10"). A mixin of ``detector.Detector``."""

from __future__ import annotations

import re

# Words that open a generic phrase, not a name ("outside hospital", "another facility")
_TOWN_CUES = frozenset({"in", "from", "near", "outside", "around", "to", "of"})
_GENERIC = frozenset({"academic", "teaching", "tertiary", "quaternary", "community", "university", "county", "state",
                      "regional", "general", "federal", "private", "public", "urban", "rural", "veterans", "military",
                      "district", "city", "major", "large", "small", "single", "several", "participating",
                      "affiliated", "trauma", "level", "medical", "cancer", "care", "health", "mental", "specialty",
                      "surgical", "primary", "day", "outside", "comprehensive", "national", "international",
                      "outside", "other", "another", "local", "previous", "prior", "referring", "receiving", "same",
                      "this", "that", "his", "her", "their", "our", "your", "a", "an", "the", "any", "nearest",
                      "home", "new", "short", "long", "term", "acute", "chronic", "sub", "subacute", "skilled",
                      "nursing", "rehab", "rehabilitation", "psych", "psychiatric", "inpatient", "outpatient"})
_HOME_HEADS = frozenset({"home", "house", "homes", "nursing", "health", "living", "manor", "gardens", "commons",
                         "pavilion", "residence", "lodge", "estates"})  # a facility's head only after a cue of several words
_RUN_BREAKS = frozenset({"vs", "versus", "or", "w", "with", "then", "when", "once", "until", "per", "for", "to",
                         "from", "on", "by"})
_RUN_CONNECTORS = frozenset({"of", "at", "and", "&", "'s", "-", ".", "in"})
# Words before a number that name a bed, a room or a score, not a ward
_NOT_WARDS = frozenset({"bed", "beds", "room", "rm", "pod", "floor", "unit", "ward", "stage", "level", "grade",
                        "step", "day", "days", "hour", "hours", "hr", "hrs", "page", "line", "lines", "tube", "size",
                        "number", "no", "dose", "doses", "x", "q", "bolus", "gauge", "french", "fr", "cm", "mm",
                        "percent", "the", "a", "an", "about", "approx", "over", "under", "than"})
# Heads of one word that make a place's name without a cue ("salem hospital"), unlike "center", "children('s)"
_STRONG_HEADS = frozenset({"hospital", "clinic", "infirmary", "rehab", "rehabilitation", "hospice", "manor", "snf",
                           "ltac", "ltach", "vamc", "seniorlife", "healthcare"})
_MOVE_AFTER = frozenset({"later", "at", "when", "once", "via", "today", "tonight", "tomorrow", "tmrw", "pending",
                         "this", "in", "after", "by", "overnight"})
_UNIT_AFTER = re.compile(r"(?:%|mg|ml|cc|mcg|units?|min|hrs?|x\b|/|\.\d|mm|cm|kg|l\b|lpm|meq|mmol|gtts?)")
FACILITY_SHAPE = re.compile(r"[a-z]{1,4}(?:h|mc|hc|mh|gh|rh|vh)")  # "smh", "ummc", "ajh": hospital abbreviations


class PlaceContext:
    """Context rules for places; ``detector.Detector`` holds the lexicons and cue tables they read."""

    def _run_word(self, word: str, key: str, first: bool) -> bool:
        lex = self.lex
        if not word[0].isalpha() or key in lex.stop_words or key in lex.shorthand:
            return False
        if first:
            return key not in _GENERIC and key not in self.never_names and key not in self.medical_heads
        return True

    def _cued_facilities(self, tokens, words, keys, taken, add, cue_at) -> None:
        """After a facility cue: a run of words (connectors inside) that ends in a place head or a town."""
        n = len(words)
        heads = self.location_heads
        head_lengths = sorted(heads, reverse=True)
        lex = self.lex
        cue_ends = self.place_cue_ends
        for i in range(1, n):
            if taken[i] or keys[i - 1] not in cue_ends or not self._run_word(words[i], keys[i], True):
                continue
            if cue_at(i, self.facility_cues) < 0 and cue_at(i, self.strong_location_cues) < 0:
                continue
            multi = any(i - c >= 0 and tuple(keys[i - c:i]) in table[c] for table in
                        (self.facility_cues, self.strong_location_cues) for c in table if c > 1)
            end, k = -1, i
            while k < n and k - i < 7 and not taken[k] and (k == i or tokens[k][0] - tokens[k - 1][1] <= 1):
                length = next((h for h in head_lengths if k > i and tuple(keys[k:k + h]) in heads[h]), 0)
                if length and keys[k] not in self.organization_heads:
                    end = k + length - 1
                    k = end + 1
                    continue
                key = keys[k]
                if key in _RUN_BREAKS or end == k - 1 and end >= 0 and key not in _RUN_CONNECTORS:
                    break  # "kindred waltham vs home": the name ended at its town
                if multi and k > i and key in _HOME_HEADS and keys[k - 1] not in _RUN_CONNECTORS:
                    end = k  # "screening for hebrew home"
                    break
                if key in _RUN_CONNECTORS and k > i:
                    k += 1
                    continue
                if not self._run_word(words[k], key, k == i):
                    break
                if k > i and (key in lex.cities and not lex.is_clinical_word(key)
                              and not (key in lex.first_names and keys[k - 1] in lex.first_names)):
                    end = k  # "kindred waltham", "bear mountain at andover"
                k += 1
            if end > i or end == i and keys[i] in lex.cities:
                while keys[end] in _RUN_CONNECTORS:
                    end -= 1
                named = any(not lex.is_clinical_word(keys[k]) and keys[k] not in lex.abbreviations
                            and (keys[k],) not in heads.get(1, ()) for k in range(i, end + 1)
                            if words[k][0].isalpha() and keys[k] not in _RUN_CONNECTORS)
                if named and not any(taken[i:end + 1]):
                    add(i, end, "LOCATION", "LOCATION.FACILITY", "rule")

    def _cued_wards(self, tokens, words, keys, taken, add, cue_at) -> None:
        """"transferred to gray 4 at 1600", "will go to White 10 once bed avail", "report to x rn on lunder 8": a
        word that is no clinical word and a one- or two-digit number after a ward cue of several words."""
        n = len(words)
        lex = self.lex
        for i in [k for k in range(2, n - 1) if len(words[k + 1]) <= 2 and words[k + 1].isdigit()]:
            if taken[i] or not words[i][0].isalpha():
                continue
            moving = i + 2 < n and keys[i + 2] in _MOVE_AFTER
            for start in (i, i - 1):  # "gray 4", "clinical center 8"
                if start < 2 or any(taken[start:i + 1]) or not all(self._ward_word(keys[k]) for k in range(start, i + 1)):
                    break
                if any(start - k >= 0 and tuple(keys[start - k:start]) in self.ward_cues[k] for k in self.ward_cues
                       if k > 1) or moving and keys[start - 1] in ("to", "from"):
                    if not _UNIT_AFTER.match("".join(words[i + 2:i + 3]).lower()) and tokens[i + 1][0] - tokens[i][1] == 1:
                        add(start, i + 1, "LOCATION", "LOCATION.UNIT", "rule")
                    break

    def _ward_word(self, key: str) -> bool:
        # (concept and clinical words may be ward names: "white 10", "gray 4", "clinical center 8")
        lex = self.lex
        return not (len(key) < 2 or not key[0].isalpha() or key in _NOT_WARDS or key in lex.stop_words
                    or key in lex.shorthand or key in self.ratio_cues or key in self.never_names - self.directions)

    def _cued_towns(self, tokens, words, keys, taken, add) -> None:
        """"lives with son in methuen", "FAMILY DRIVING UP FROM NORWOOD": a town of the gazetteer, in any case,
        just after a place word ("in", "from", "near", ...), unless it is also an everyday or clinical word."""
        lex = self.lex
        n = len(words)
        for i in range(1, n):
            if taken[i] or keys[i - 1] not in _TOWN_CUES or not words[i][0].isalpha() or keys[i] not in self.place_starts:
                continue
            for length in (3, 2, 1):
                if i + length > n or any(taken[i:i + length]):
                    continue
                phrase = " ".join(keys[i:i + length])
                if phrase not in lex.cities and phrase not in lex.states:
                    continue
                if length == 1 and (lex.is_common_word(phrase) or phrase in lex.abbreviations or lex.is_name_word(phrase)
                                    or phrase in self.never_names or len(phrase) < 4):
                    break
                add(i, i + length - 1, "LOCATION", "LOCATION.CITY", "rule")
                break

    def _headed_places(self, tokens, words, keys, taken, add) -> None:
        """"courtyard nursing care center", "SALEM HOSPITAL", "seacoast nursing home": one to three name words
        before a place head, in any case, with no cue: the words must be no stop, clinical, shorthand or generic
        word, and one of them no everyday word of the clinic (concept words, frequent English words)."""
        lex = self.lex
        n = len(words)
        heads = self.location_heads
        head_lengths = sorted(heads, reverse=True)
        for i in range(1, n):
            if keys[i] not in self.location_head_starts or taken[i]:
                continue
            length = next((h for h in head_lengths if i + h <= n and tuple(keys[i:i + h]) in heads[h]), 0)
            if not length or keys[i] in self.organization_heads or length == 1 and keys[i] not in _STRONG_HEADS:
                continue  # "leukemic children", "trauma center": a lone weak head needs a cue
            start = i
            while start - 1 >= 0 and i - start < 3 and not taken[start - 1] and self._name_word(
                    words[start - 1], keys[start - 1], inner=True) and tokens[start][0] - tokens[start - 1][1] <= 1:
                start -= 1
            while start < i and not self._name_word(words[start], keys[start]):
                start += 1  # "nursing care center" opens with a clinical word: no name
            if start == i or not any(self._place_evidence(keys[k]) for k in range(start, i)):
                continue
            end = i + length - 1
            # "... center of stoneham", "... at marina bay": a town after the head belongs to the name
            if end + 2 < n and keys[end + 1] in ("of", "at") and keys[end + 2] in lex.cities and not taken[end + 2]:
                end += 2
            add(start, end, "LOCATION", "LOCATION.FACILITY", "rule")

    def _name_word(self, word: str, key: str, inner: bool = False) -> bool:
        """A word that may open a place's name (``inner``: stand inside one: "courtyard nursing care center")."""
        lex = self.lex
        if not word[0].isalpha() or len(key) < 2 or key in lex.stop_words or key in lex.shorthand \
                or key in self.never_names or key in self.medical_heads:
            return False
        return inner or (key not in _GENERIC and key not in lex.clinical_words and key not in self.directions - {"new"})

    def _place_evidence(self, key: str) -> bool:
        """A word that names rather than describes: a town, a Census name, or a word that is neither clinical
        nor frequent English."""
        lex = self.lex
        if key in lex.cities or ((key in lex.first_names or key in lex.last_names) and not lex.is_name_word(key)):
            return True
        return (key not in lex.medical_words and key not in lex.abbreviations and key not in lex.eponyms
                and lex.word_zipf.get(key, 0.0) < 4.0)

    def _street_numbers(self, tokens, words, keys, taken, add) -> None:
        """"28245 Puruntie 82", "5720 Skoanveien 226 ... Apt. 117": a house number of three to six digits, one to
        three capitalised words of which one no vocabulary knows, and a number of one to three digits (European
        street addresses; "1 Year Post-discharge Through 2008" is none)."""
        n = len(words)
        lex = self.lex
        for i in [k for k in range(n - 2) if words[k].isdigit() and 3 <= len(words[k]) <= 6 and words[k + 1][0].isupper()]:
            if taken[i]:
                continue
            k = i + 1
            while k < n and k - i <= 3 and words[k][0].isupper() and words[k][0].isalpha() \
                    and tokens[k][0] - tokens[k - 1][1] <= 2:
                k += 1
            if k == i + 1 or k >= n or not words[k].isdigit() or len(words[k]) > 3 or tokens[k][0] - tokens[k - 1][1] > 1:
                continue
            if any(taken[i:k + 1]) or re.fullmatch(r"(?:19|20)\d\d", words[k]) or not any(
                    keys[j].isalpha() and len(keys[j]) > 3 and not lex.is_known_word(keys[j]) for j in range(i + 1, k)):
                continue  # "... Through 2008": a year, not a house number
            add(i, k, "LOCATION", "LOCATION.STREET", "rule")
