"""De-identification: ``Detector``'s PHI spans replaced by keyed surrogates or type tags."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from notenlp.deid.detector import DATE_CONTENT_RE, PLACEHOLDER_RE, Detector, _resolve  # noqa: F401 (_resolve: baseline)
from notenlp.deid.surrogates import Surrogates
from notenlp.doc import Doc, PhiSpan

log = logging.getLogger(__name__)


@dataclass
class DeidResult:
    text: str
    phi: list[PhiSpan] = field(default_factory=list)  # offsets into the input text
    replacements: list[str] = field(default_factory=list)  # written for each phi span, same order
    date_shift_days: int | None = None


class Deidentifier(Detector):
    """Finds PHI and writes surrogates (``mode="surrogate"``) or type tags (``mode="tag"``).

    ``secret_hex`` (or ``secret_file``) keys the surrogates and the per-person date shift; without
    either, a random per-process key is used, so surrogates are then consistent only within one process.
    The other keyword settings are ``Detector``'s.
    """

    def __init__(self, *, mode: str = "surrogate", secret_hex: str | None = None, secret_file: str | None = None,
                 **detection):
        if mode not in ("surrogate", "tag"):
            raise ValueError("mode must be 'surrogate' or 'tag'")
        super().__init__(**detection)
        self.mode = mode
        if secret_hex is None and secret_file:
            secret_hex = Path(secret_file).read_text(encoding="utf-8").strip()
        if secret_hex is None:
            secret_hex = os.urandom(32).hex()
            if mode == "surrogate":
                log.warning("no de-identification secret given: surrogates are consistent only within this process")
        self._secret = bytes.fromhex(secret_hex)
        self.surrogates = Surrogates(self._secret, self.lex, frozenset(
            w for ps in self.location_heads.values() for p in ps for w in p) | {"st", "saint", "of", "the"})

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
            if span.type == "DATE" and DATE_CONTENT_RE.fullmatch(original):
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


