"""Moved to ``notenlp.evaluation.assertion``; this name stays only for ``evaluation/nursing_notes.py``.

debt: #17 -- that file was being changed by other work when the evaluation code left ``annotate/``;
once it imports ``read_negex`` from ``notenlp.evaluation.assertion``, delete this module.
"""

from notenlp.evaluation.assertion import read_negex

__all__ = ["read_negex"]
