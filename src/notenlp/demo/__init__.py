"""Synthetic MIMIC-style clinical notes with exact gold annotations (``notenlp demo-data``)."""
