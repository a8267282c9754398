"""De-identification: hybrid PHI detection, keyed surrogates, date shifting, sealed audit."""

from notenlp.deid.deidentifier import DeidResult, Deidentifier

__all__ = ["DeidResult", "Deidentifier"]
