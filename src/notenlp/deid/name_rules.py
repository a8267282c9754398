"""Name rules of the detector (a mixin of ``detector.Detector``): cued names in any case, names by lexicon
evidence, names repeated within a note, and names grown over their neighbouring words."""

from __future__ import annotations

from notenlp.deid.features import cached_word_key
from notenlp.doc import PhiSpan

# One-word weak name cues: after the first four an everyday-word name counts too ("per swift,"); after the
# others only a name that is no everyday word ("fever with chill," stays)
_WEAK_CUE_WORDS = frozenset({"per", "paged", "page", "notified", "notify", "by", "from", "with", "called"})
_NAMING_CUE_WORDS = frozenset({"per", "paged", "page", "notified"})
_NAME_CREDENTIALS = frozenset({"rn", "np", "md", "crnp", "lpn", "rrt"})  # not "do", "pa": words too
COMMON_NAME_RANK = 10_000  # Census names this frequent count as names without a cue


class NameRules:
    """Name rules; ``detector.Detector`` holds the lexicons and cue tables they read."""

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
        return strong and len(word) >= 3 and self.unknown_word(key)

    def unknown_word(self, key: str) -> bool:
        """A word no vocabulary knows and that does not look like an inflected (mistyped) word: a name's shape
        when a cue stands by ("okonkwo", "ndukwe")."""
        if "-" in key:  # "adeyemi-clarke": each part unknown or a surname
            parts = key.split("-")
            return len(parts) == 2 and all(self.unknown_word(p) or p in self.lex.last_names and len(p) >= 3
                                           and not self.lex.is_common_word(p) for p in parts)
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
            if cue_key in self.strong_cue_ends and cue_at(j, self.name_cues) >= 0 \
                    or j < i and cue_at(i, self.name_cues) >= 0:  # a cue that ends in its colon: "pt: okonkwo"
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
                        and key not in self.never_names and key not in self.lex.first_names \
                        and not (i + 1 < n and keys[i + 1] in self.location_head_starts):  # "SALEM HOSPITAL": whole
                    if i + 1 < n and words[i + 1].isdigit() and len(words[i + 1]) <= 2 and cue_at(i, self.ward_cues) >= 0 \
                            and not (i + 2 < n and words[i + 2] in ("/", "-")):  # not "MWH 9/4": a date
                        add(i, i + 1, "LOCATION", "LOCATION.UNIT", "rule")  # "CAME UP FROM FARR 10": a ward
                    else:
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

