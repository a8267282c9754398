"""Shift a date expression by whole days and write it back in the format it was written in."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTH_ABBR = {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_MONTH_RE = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?", re.IGNORECASE)
_NUMERIC_RE = re.compile(r"(?P<a>\d{1,4})(?P<s1>[-/.])(?P<b>\d{1,2})(?:(?P<s2>[-/.])(?P<c>\d{1,4}))?")
_DAY_RE = re.compile(r"\b(\d{1,2})(st|nd|rd|th)?\b", re.IGNORECASE)
_YEAR_RE = re.compile(r"(?<!\d)('?)(\d{4}|\d{2})(?!\d)")


def _pad(value: int, like: str) -> str:
    return str(value).zfill(len(like)) if len(like) > 1 and like.startswith("0") else str(value)


def _year_text(year: int, like: str) -> str:
    return str(year % 100).zfill(2) if len(like) == 2 else str(year)


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _month_text(month: int, like: str) -> str:
    core = like.rstrip(".")
    name = calendar.month_name[month] if len(core) > 3 and core.lower() != "sept" else calendar.month_abbr[month]
    if core.isupper():
        name = name.upper()
    elif core.islower():
        name = name.lower()
    return name + ("." if like.endswith(".") and len(name) <= 4 else "")


def _safe_date(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _full_year(text: str, reference: date) -> int:
    year = int(text.lstrip("'"))
    if len(text.lstrip("'")) == 2:
        century = reference.year // 100 * 100
        year = century + year if century + year <= reference.year + 10 else century - 100 + year
    return year


def shift_date_text(text: str, subtype: str, days: int, reference: date) -> str | None:
    """The same expression ``days`` later (negative: earlier), or None when it cannot be read as a date."""
    delta = timedelta(days=days)
    try:
        if subtype == "DATE.YEAR":
            match = _YEAR_RE.search(text)
            year = int(match.group(2))
            shifted = (_safe_date(year, reference.month, reference.day) + delta).year
            return text[:match.start(2)] + str(shifted) + text[match.end(2):]
        if subtype in ("DATE.YMD", "DATE.MDY", "DATE.MD"):
            match = _NUMERIC_RE.search(text)
            a, b, c = match.group("a"), match.group("b"), match.group("c")
            month_day = (b, c) if subtype == "DATE.YMD" else (a, b)
            # "03/14" and "12/15" are written zero-padded; "3/14" is not.
            padded = any(x.startswith("0") for x in month_day) or all(len(x) == 2 for x in month_day)
            width = "00" if padded else "0"
            if subtype == "DATE.YMD":
                new = _safe_date(int(a), int(b), int(c)) + delta
                parts = (str(new.year), _pad(new.month, width), _pad(new.day, width))
            elif subtype == "DATE.MDY":
                new = _safe_date(_full_year(c, reference), int(a), int(b)) + delta
                parts = (_pad(new.month, width), _pad(new.day, width), _year_text(new.year, c))
            else:
                new = _safe_date(reference.year, int(a), int(b)) + delta
                parts = (_pad(new.month, width), _pad(new.day, width))
            rebuilt = parts[0] + match.group("s1") + parts[1]
            if len(parts) == 3:
                rebuilt += match.group("s2") + parts[2]
            return text[:match.start()] + rebuilt + text[match.end():]
        if subtype == "DATE.DAY":
            day = int(_DAY_RE.search(text).group(1))
            new = _safe_date(reference.year, reference.month, day) + delta
            return _DAY_RE.sub(lambda m: _ordinal(new.day) if m.group(2) else str(new.day), text, count=1)
        month_match = _MONTH_RE.search(text)
        if month_match is None:
            return None
        month = MONTH_ABBR[month_match.group(1).lower()[:3]]
        rest = text[:month_match.start()] + " " * (month_match.end() - month_match.start()) + text[month_match.end():]
        day_match = None
        for candidate in _DAY_RE.finditer(rest):
            if len(candidate.group(1)) <= 2 and not rest[max(0, candidate.start() - 1):candidate.start()] == "'":
                day_match = candidate
                break
        year_match = None
        for candidate in re.finditer(r"(?<!\d)('?\d{4}|'\d{2}|(?<=[- ,])\d{2}$)(?!\d)", rest):
            if day_match is None or candidate.start() != day_match.start():
                year_match = candidate
        year = _full_year(year_match.group(1), reference) if year_match else reference.year
        day = int(day_match.group(1)) if day_match else 15
        new = _safe_date(year, month, day) + delta
        pieces = [(month_match.start(), month_match.end(), _month_text(new.month, month_match.group(0)))]
        if day_match:
            day_text = _ordinal(new.day) if day_match.group(2) else _pad(new.day, day_match.group(1))
            pieces.append((day_match.start(), day_match.end(), day_text))
        if year_match:
            raw = year_match.group(1)
            year_text = ("'" if raw.startswith("'") else "") + _year_text(new.year, raw.lstrip("'"))
            pieces.append((year_match.start(), year_match.end(), year_text))
        out = text
        for start, end, value in sorted(pieces, reverse=True):
            out = out[:start] + value + out[end:]
        return out
    except (AttributeError, ValueError, KeyError):
        return None
