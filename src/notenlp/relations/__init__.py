"""Relation extraction: medication attributes by rule, adverse events, treatments and test findings by a classifier."""
