"""Large regular expressions compiled once into the on-disk cache (:mod:`notenlp.cache`), not at every start.

CPython compiles a regex in two Python steps (parse the pattern, generate the matcher's code) and one C step
(``_sre.compile`` checks the code and wraps it). For the alternations of thousands of phrases that the section
detector and ConText build, the Python steps cost ~0.1 CPU s of every ``notenlp annotate`` start; the generated
code is kept instead, and a start hands it straight to ``_sre.compile``.

Never wrong: an entry's key hashes the pattern, its flags, the interpreter's exact version and ``_sre.MAGIC``
(the code format); an entry is checked equal to ``re.compile``'s own pattern when it is built (patterns compare
equal only with the same pattern, flags and code); ``_sre.compile`` validates the code it is given; and anything
unexpected falls back to ``re.compile``. Entries hold rule patterns, never note text.
"""

from __future__ import annotations

import logging
import re
import sys

import _sre

from notenlp import cache

log = logging.getLogger(__name__)

KIND = "regex"
MIN_LENGTH = 120  # shorter patterns compile in ~0.1 ms or less: about what reading a cache file costs
KEEP_ENTRIES = 256  # one per large pattern; the project compiles a few dozen


def compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(pattern, flags)``; a long pattern's compiled code comes from the cache."""
    flags = int(flags)
    if not isinstance(pattern, str) or len(pattern) < MIN_LENGTH or flags & re.DEBUG:
        return re.compile(pattern, flags)
    key = cache.content_key(sys.version, str(_sre.MAGIC), str(flags), pattern)
    try:
        arguments = cache.cached(KIND, key, lambda: compiled_code(pattern, flags), keep=KEEP_ENTRIES)
        return _sre.compile(pattern, *arguments)
    except Exception as exc:  # noqa: BLE001 - another interpreter's internals: compile it the ordinary way
        log.debug("regex cache not used (%s: %s)", type(exc).__name__, exc)
        return re.compile(pattern, flags)


def compiled_code(pattern: str, flags: int) -> tuple:
    """``_sre.compile``'s arguments after the pattern, as ``re._compiler.compile`` computes them; raises when the
    pattern they give differs from ``re.compile``'s, so that nothing wrong is ever stored."""
    from re import _compiler, _parser

    parsed = _parser.parse(pattern, flags)
    code = [int(op) for op in _compiler._code(parsed, flags)]  # plain ints: opcodes are an int subclass
    groupindex = dict(parsed.state.groupdict)
    indexgroup = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    arguments = (flags | parsed.state.flags, code, parsed.state.groups - 1, groupindex, tuple(indexgroup))
    if _sre.compile(pattern, *arguments) != re.compile(pattern, flags):
        raise ValueError("the code generated here differs from re.compile's")
    return arguments
