"""Shared scoring code for ``notenlp evaluate``: every evaluator reports through these functions."""
