"""Keyed surrogates: realistic, consistent within a person, unlinkable without the secret.

Every choice is drawn from HMAC-SHA256(secret, person | kind | normalized original), so each
Spark worker computes the same surrogate for the same person and value with no shared state.
Numbers come from reserved ranges (phones 555-01xx, SSN area 9xx, IPs in 192.0.2.0/24,
e-mail and web domains under example.org, IDs starting 99) so they never match real identifiers.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import string
from datetime import date

from notenlp.deid.dates import shift_date_text
from notenlp.deid.resources import Lexicons

SHIFT_MIN_DAYS, SHIFT_MAX_DAYS = -3650, -365
_WORD_RE = re.compile(r"[A-Za-z]+")
_DIGITS_RE = re.compile(r"\d")


class Surrogates:
    def __init__(self, secret: bytes, lexicons: Lexicons, location_heads: frozenset[str]):
        self._secret = secret
        self._lex = lexicons
        self._location_heads = location_heads
        self._states = sorted(lexicons.states)
        self._countries = sorted(lexicons.countries)
        self._first_rank = {name: i for i, name in enumerate(lexicons.first_name_list)}

    def number(self, person: str, kind: str, value: str) -> int:
        message = f"{person}\x1f{kind}\x1f{value}".encode()
        return int.from_bytes(hmac.new(self._secret, message, hashlib.sha256).digest()[:8], "big")

    def date_shift_days(self, person: str) -> int:
        span = SHIFT_MAX_DAYS - SHIFT_MIN_DAYS + 1
        return SHIFT_MIN_DAYS + self.number(person, "DATE_SHIFT", "") % span

    @staticmethod
    def _case_like(value: str, like: str) -> str:
        if like.isupper() and len(like) > 1:
            return value.upper()
        if like.islower():
            return value.lower()
        return value.capitalize()

    def _word(self, person: str, word: str, pool: tuple[str, ...], kind: str) -> str:
        key = word.lower()
        if key.endswith("'s"):
            return self._word(person, word[:-2], pool, kind) + word[-2:]
        if len(key) == 1:
            return self._case_like(string.ascii_uppercase[self.number(person, "INITIAL", key) % 26], word)
        choice = pool[self.number(person, kind, key) % len(pool)]
        if choice == key:  # never hand back the original
            choice = pool[(self.number(person, kind, key) + 1) % len(pool)]
        return self._case_like(choice, word)

    def name(self, person: str, text: str) -> str:
        lex = self._lex
        def replace(match: re.Match[str]) -> str:
            word = match.group(0)
            key = word.lower()
            rank = self._first_rank.get(key)
            is_first = rank is not None and (key not in lex.last_names or rank < 300)
            return self._word(person, word, lex.first_name_list if is_first else lex.last_name_list, "NAME")
        return _WORD_RE.sub(replace, text)

    def placeholder_name(self, person: str, content: str) -> str:
        """A name for a removed one: first-name pool when the placeholder says so."""
        pool = self._lex.first_name_list if "first" in content.lower() else self._lex.last_name_list
        return self._word(person, "Xx" + re.sub(r"\W", "", content), pool, "NAME")

    def location(self, person: str, text: str, subtype: str) -> str:
        if subtype in ("LOCATION.ZIP",):
            return self.digits(person, "ZIP", text)
        if subtype == "LOCATION.CITY_STATE":
            city, _, rest = text.partition(",")
            return self.location(person, city, "LOCATION.CITY") + "," + self.digits(person, "ZIP", rest)
        lex = self._lex
        key = text.lower().strip()
        if key in lex.states:
            return self._case_like(self._states[self.number(person, "STATE", key) % len(self._states)], text).title()
        if key in lex.countries:
            return self._countries[self.number(person, "COUNTRY", key) % len(self._countries)].title()
        if key in lex.cities or subtype == "LOCATION.CITY":
            pool = lex.city_list
            return " ".join(w.capitalize() for w in pool[self.number(person, "CITY", key) % len(pool)].split())
        def replace(match: re.Match[str]) -> str:
            word = match.group(0)
            if word.lower() in self._location_heads or len(word) <= 2:
                return word
            return self._word(person, word, lex.last_name_list, "PLACE")
        out = _WORD_RE.sub(replace, text)
        return _DIGITS_RE.sub(lambda m: str(self.number(person, "HOUSE", text + str(m.start())) % 10), out)

    def digits(self, person: str, kind: str, text: str, prefix: str = "") -> str:
        """Same shape, digits (and letters) drawn from the keyed hash; ``prefix`` overwrites the first digits."""
        seed = self.number(person, kind, re.sub(r"\W", "", text).lower())
        out, n_digit = [], 0
        for i, ch in enumerate(text):
            if ch.isdigit():
                out.append(prefix[n_digit] if n_digit < len(prefix) else str((seed >> (i % 60)) % 10))
                n_digit += 1
            elif ch.isalpha():
                letter = string.ascii_uppercase[(seed >> (i % 58)) % 26]
                out.append(letter if ch.isupper() else letter.lower())
            else:
                out.append(ch)
        return "".join(out)

    def phone(self, person: str, text: str) -> str:
        digits = _DIGITS_RE.findall(text)
        fake = self.digits(person, "PHONE", text)
        n = len(digits)
        if n >= 7:  # exchange 555, line 01xx: numbers reserved for fiction
            fixed = {n - 7: "5", n - 6: "5", n - 5: "5", n - 4: "0", n - 3: "1"}
            count = -1
            chars = []
            for ch in fake:
                if ch.isdigit():
                    count += 1
                    ch = fixed.get(count, ch)
                chars.append(ch)
            return "".join(chars)
        return fake

    def email(self, person: str, text: str) -> str:
        n = self.number(person, "EMAIL", text.lower())
        first = self._lex.first_name_list[n % len(self._lex.first_name_list)]
        last = self._lex.last_name_list[(n >> 20) % len(self._lex.last_name_list)]
        return f"{first}.{last}@example.org"

    def url(self, person: str, text: str) -> str:
        n = self.number(person, "URL", text.lower())
        word = self._lex.last_name_list[n % len(self._lex.last_name_list)]
        scheme = "https://" if text.lower().startswith("https://") else "http://" if text.lower().startswith("http") else ""
        prefix = "www." if "www." in text.lower() or not scheme else ""
        return f"{scheme}{prefix}{word}.example.org"

    def ip(self, person: str, text: str) -> str:
        return f"192.0.2.{self.number(person, 'IP', text) % 254 + 1}"

    def identifier(self, person: str, text: str, subtype: str) -> str:
        if subtype == "ID.SSN":
            return self.digits(person, "SSN", text, prefix="9")
        return self.digits(person, "ID", text, prefix="99")

    def age(self, text: str) -> str:
        return "90" if any(ch.isdigit() for ch in text) else text

    def date(self, person: str, text: str, subtype: str, shift_days: int, reference: date) -> str:
        if subtype == "DATE.TIME":
            return text
        shifted = shift_date_text(text, subtype, shift_days, reference)
        return shifted if shifted is not None else "[DATE]"
