"""Moved to ``notenlp.evaluation.annotate_bench``; this name stays only for ``evaluation/whole_process.py``.

debt: #17 -- that file was being changed by other work when the benchmarks left ``annotate/``;
once it imports ``build_medspacy_full`` from ``notenlp.evaluation.annotate_bench``, delete this module.
"""

from notenlp.evaluation.annotate_bench import build_medspacy_full

__all__ = ["build_medspacy_full"]
