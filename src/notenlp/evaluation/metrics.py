"""Moved to ``notenlp.metrics`` (below the science packages, which score with it too).

debt: #17 -- kept only for ``src/notenlp/deid/`` and ``evaluation/whole_process.py``, which other work
was changing when the scoring functions moved; delete once they import from ``notenlp.metrics``.
"""

from notenlp.metrics import Score, format_table, span_scores

__all__ = ["Score", "format_table", "span_scores"]
