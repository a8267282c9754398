"""Places told by the words around them (issue #21): a facility's whole name after a facility cue, in any
case, up to its head ("sent from good samaritan medical center ed") or its town ("screening for kindred
waltham", "prev at life care center of stoneham"), and a ward with its number after a ward cue of several
words ("transferred to gray 4", "will go to White 10"). A mixin of ``detector.Detector``."""

from __future__ import annotations

import re

# Words that open a generic phrase, not a name ("outside hospital", "another facility")
_GENERIC = frozenset({"outside", "other", "another", "local", "previous", "prior", "referring", "receiving", "same",
                      "this", "that", "his", "her", "their", "our", "your", "a", "an", "the", "any", "nearest",
                      "home", "new", "short", "long", "term", "acute", "chronic", "sub", "subacute", "skilled",
                      "nursing", "rehab", "rehabilitation", "psych", "psychiatric", "inpatient", "outpatient"})
_HOME_HEADS = frozenset({"home", "house", "homes"})  # a facility's head only after a cue of several words
_RUN_BREAKS = frozenset({"vs", "versus", "or", "w", "with", "then", "when", "once", "until", "per", "for", "to",
                         "from", "on", "by"})
_RUN_CONNECTORS = frozenset({"of", "at", "and", "&", "'s", "-", ".", "in"})
# Words before a number that name a bed, a room or a score, not a ward
_NOT_WARDS = frozenset({"bed", "beds", "room", "rm", "pod", "floor", "unit", "ward", "stage", "level", "grade",
                        "step", "day", "days", "hour", "hours", "hr", "hrs", "page", "line", "lines", "tube", "size",
                        "number", "no", "dose", "doses", "x", "q", "bolus", "gauge", "french", "fr", "cm", "mm",
                        "percent", "the", "a", "an", "about", "approx", "over", "under", "than"})
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
        for i in range(2, n - 1):
            if taken[i] or not words[i + 1].isdigit() or len(words[i + 1]) > 2 or not words[i][0].isalpha():
                continue
            key = keys[i]
            # (concept and clinical words may be ward names: "white 10", "gray 4")
            if len(key) < 2 or key in _NOT_WARDS or key in lex.stop_words or key in lex.shorthand \
                    or key in self.ratio_cues or key in self.never_names - self.directions:
                continue
            if not any(i - k >= 0 and tuple(keys[i - k:i]) in self.ward_cues[k] for k in self.ward_cues if k > 1):
                continue
            if _UNIT_AFTER.match("".join(words[i + 2:i + 3]).lower()) or tokens[i + 1][0] - tokens[i][1] > 1:
                continue
            add(i, i + 1, "LOCATION", "LOCATION.UNIT", "rule")
