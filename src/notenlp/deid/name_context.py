"""Names told by the words around them rather than by the word's own list (issue #21): a word no vocabulary
knows, or a Census name that is no everyday word, beside a name already found, inside a bracket after a
service or person word, or just before a word that follows names. A mixin of ``detector.Detector``."""

from __future__ import annotations

import re

from notenlp.doc import PhiSpan

# Between two parts of one name or two names of a list: "tadhg jonas", "okonkwo, tadhg", "pearl and chidi",
# "keane/steel"
_NAME_JOINERS = frozenset({",", "and", "&", "/"})
# One-word cues before a word no vocabulary knows, where the name then ends ("with yevgenia re:", "from obinna at")
_LOOSE_CUES = frozenset({"with", "from", "per", "paged", "called", "notified", "told", "informed", "asked", "thanked",
                         "met"})
_SPOKEN = re.compile(r"[aeiouy]")  # a name has a vowel; "lcws", "sjs" are shorthand
_PLAIN_PREPOSITIONS = frozenset({"with", "from"})
_PATIENT_WORDS = frozenset({"pt", "patient", "pts"})
# How a note goes on after a patient's or visitor's name ("CHIDI VERY ANXIOUS", "aoife tearful"): words for an
# unknown word only, never for a known one
_STATE_WORDS = frozenset({"very", "tearful", "anxious", "confused", "agitated", "sleeping", "resting", "restless",
                          "oriented", "alert", "calm", "crying", "complaining", "c/o", "denies", "refusing",
                          "visited", "visiting", "phoned", "left", "arrived", "tolerated", "tolerating"})
_POSSESSORS = frozenset({"pt's", "pts", "pt", "patient's", "his", "her", "their", "the"})
_NAME_CREDENTIALS = frozenset({"rn", "np", "md", "crnp", "lpn", "rrt", "pa", "do", "cna", "msw", "lcsw"})
_NAME_END_WORDS = frozenset({"re", "at", "on", "by", "about", "regarding", "rn", "np", "md", "today", "tonight",
                             "this", "in"})
_INFLECTIONS = ("ed", "ing", "ly", "tion", "ment", "ness", "ity", "ous", "ive", "ic", "al")


class NameContext:
    """Context rules for names; ``detector.Detector`` holds the lexicons and cue tables they read."""

    def name_shaped(self, word: str, key: str) -> bool:
        """A word no vocabulary knows (hyphenated names too: "abernathy-cole"), or a Census name that is no
        everyday, clinical or cue word: the shape of a name, which context must confirm."""
        hit = self._name_shape_cache.get(key)
        if hit is None:
            hit = self._name_shape_cache[key] = self._name_shaped(key)
        return hit and word[0].isalpha()

    def _name_shaped(self, key: str) -> bool:
        word = key
        lex = self.lex
        if len(key) < 3 or not word[0].isalpha() or key in self.never_names or key in lex.stop_words:
            return False
        parts = key.split("-")
        if len(parts) > 2 or not all(p.isalpha() and len(p) >= 2 for p in parts):
            return False
        if key.endswith(_INFLECTIONS) and not (key in lex.first_names or key in lex.last_names):
            return False
        if len(parts) == 2:
            return all(self._name_shaped(p) or p in lex.last_names for p in parts)
        if key in lex.first_names or key in lex.last_names:
            return not lex.is_common_word(key) and not lex.is_frequent_word(key) and key not in lex.abbreviations
        return not lex.is_known_word(key)

    def _names_beside_names(self, spans, token_spans, tokens, words, keys, taken, add) -> None:
        """Grow names over name-shaped neighbours on the same line, repeatedly: "tadhg jonas" after "jonas" was
        found, "PT: OKONKWO, TADHG", "family (pearl and chidi)", "ted glass/glass aware"."""
        n = len(words)

        def same_line(a: int, b: int) -> bool:
            return tokens[b][0] - tokens[a][1] <= 2

        def neighbour(i: int, step: int) -> int:
            k = i + step
            if 0 <= k < n and words[k] in _NAME_JOINERS and 0 <= k + step < n and same_line(min(k, k + step),
                                                                                            max(k, k + step)):
                if words[k] == "," and words[i].isupper() != words[k + step].isupper():
                    return -1  # "..., Serina Lampkin": a list of words, not "LAST, FIRST"
                k += step
            if not (0 <= k < n) or taken[k] or not same_line(min(i, k), max(i, k)):
                return -1
            return k if self.name_shaped(words[k], keys[k]) and words[k][0].isupper() == words[i][0].isupper() \
                else -1

        found = [index for index, span in enumerate(spans) if span.type == "NAME" and span.source != "model"]
        for _ in range(3):
            grown = []
            for index in found:
                for step in (1, -1):
                    i, j = token_spans[index]
                    k = neighbour(j if step == 1 else i, step)
                    if k < 0 or taken[k]:
                        continue
                    if abs(k - (j if step == 1 else i)) == 1 and spans[index].source != "placeholder":
                        # "margaret okafor": one name, one span
                        start, end = min(i, k), max(j, k)
                        span = spans[index]
                        spans[index] = PhiSpan(tokens[start][0], tokens[end][1], span.type, span.subtype,
                                               span.source, span.score)
                        token_spans[index] = (start, end)
                        taken[k] = True
                        grown.append(index)
                    else:
                        add(k, k, "NAME", "NAME.BESIDE", "rule")
                        grown.append(len(spans) - 1)
            if not grown:
                break
            found = grown

    def _ends_name(self, i: int, words, keys, spoken_only: bool = False) -> bool:
        """The note goes on as after a name: punctuation, a line end, a follower or "re", "at" (``spoken_only``:
        only the words, since "with aenmia," is a misspelt word and "with yevgenia re:" a name)."""
        nxt = i + 1
        if nxt < len(words) and (keys[nxt] in _NAME_END_WORDS or keys[nxt] in self.name_followers):
            return True
        return not spoken_only and (nxt >= len(words) or words[nxt] in (",", ";", ")", "\n"))

    def _names_in_context(self, tokens, words, keys, taken, add) -> None:
        """A name-shaped word in a bracket after a service, role or person word ("renal (ndukwe)", "male (aoife)",
        "covering md (okonkwo)"), or before a word that follows names ("aoife will be in", "OKONKWO AWARE")."""
        n = len(words)
        bracket_cues = self.bracket_name_cues | self.lex.shorthand | self.credentials
        followers = self.name_followers | self.post_name_cues | _STATE_WORDS
        # cheap context look-ups first: most words stand in none of these places
        candidates = [i for i in range(n) if i + 1 < n and (keys[i + 1] in followers or words[i + 1] == ",")
                      or i > 0 and (words[i - 1] == "(" or keys[i - 1] in _LOOSE_CUES or keys[i - 1] in _PATIENT_WORDS)]
        for i in candidates:
            if taken[i] or not words[i][0].isalpha() or not self.name_shaped(words[i], keys[i]):
                continue
            unknown = not (keys[i] in self.lex.first_names or keys[i] in self.lex.last_names)
            if i >= 2 and words[i - 1] == "(" and keys[i - 2] in bracket_cues and i + 1 < n \
                    and words[i + 1] in (")", "/", ",", "and", "&"):
                add(i, i, "NAME", "NAME.CUED", "rule")
            elif unknown and i + 1 < n and keys[i + 1] in followers and tokens[i + 1][0] - tokens[i][1] == 1 \
                    and (i == 0 or not words[i - 1][0].isalpha() or keys[i - 1] in self.strong_cue_ends
                         or keys[i - 1] in ("and", "&")):  # "thandiwe and siddharth visited"
                add(i, i, "NAME", "NAME.CUED", "rule")
            elif unknown and i > 0 and keys[i - 1] in _PATIENT_WORDS and _SPOKEN.search(keys[i]) and len(keys[i]) >= 4:
                add(i, i, "NAME", "NAME.CUED", "rule")  # "pt kwabena tearful at times"
            elif unknown and i > 0 and keys[i - 1] in _LOOSE_CUES and self._ends_name(
                    i, words, keys, spoken_only=keys[i - 1] in _PLAIN_PREPOSITIONS) \
                    and _SPOKEN.search(keys[i]) and len(keys[i]) >= 4:
                add(i, i, "NAME", "NAME.CUED", "rule")  # "talked at length with yevgenia re: dnr"
            elif i + 2 < n and words[i + 1] == "," and (keys[i + 2] in _NAME_CREDENTIALS or (
                    keys[i + 2] in self.strong_cue_ends or keys[i + 2] in _POSSESSORS) and unknown):
                add(i, i, "NAME", "NAME.CUED", "rule")  # "kwabena, rn", "SAOIRSE, PT'S BROTHER"
