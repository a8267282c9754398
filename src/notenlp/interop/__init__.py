"""Interoperability with other clinical NLP stacks (Spark NLP)."""
