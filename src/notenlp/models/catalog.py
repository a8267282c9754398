"""Forwarding module for ``notenlp.deid.benchmark`` only (debt: #17, see ``notenlp/models/__init__.py``)."""

from notenlp.lifecycle.catalog import DEID_GOLD_PREFIX

__all__ = ["DEID_GOLD_PREFIX"]
