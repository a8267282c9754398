"""OMOP vocabularies: loading them, compiling the normalization dictionary, matching and normalizing mentions."""
