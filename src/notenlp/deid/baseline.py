"""Baseline for evaluation and benchmarks: Presidio's predefined pattern recognizers (no spaCy model here).

Presidio's person/location detection needs a trained spaCy NER model, which is not available offline,
so the baseline is Presidio's rule layer: every US/generic pattern recognizer, run directly with no NLP
artifacts (the same as an AnalyzerEngine on a blank-spaCy NlpEngine, minus the NER it cannot run).
"""

from __future__ import annotations

from notenlp.doc import PhiSpan

PRESIDIO_TO_PHI = {
    "DATE_TIME": "DATE", "PHONE_NUMBER": "PHONE", "EMAIL_ADDRESS": "EMAIL", "URL": "URL", "IP_ADDRESS": "IP",
    "US_SSN": "ID", "CREDIT_CARD": "ID", "IBAN_CODE": "ID", "US_DRIVER_LICENSE": "ID", "US_PASSPORT": "ID",
    "US_BANK_NUMBER": "ID", "US_ITIN": "ID", "MEDICAL_LICENSE": "ID", "US_NPI": "ID", "US_MBI": "ID",
    "PERSON": "NAME", "LOCATION": "LOCATION", "NRP": "", "CRYPTO": "ID", "MAC_ADDRESS": "ID",
}
_RECOGNIZERS = ("DateRecognizer", "PhoneRecognizer", "EmailRecognizer", "UrlRecognizer", "IpRecognizer",
                "UsSsnRecognizer", "CreditCardRecognizer", "IbanRecognizer", "UsLicenseRecognizer",
                "UsPassportRecognizer", "UsBankRecognizer", "UsItinRecognizer", "MedicalLicenseRecognizer",
                "UsNpiRecognizer", "UsMbiRecognizer", "CryptoRecognizer", "MacAddressRecognizer")


class PresidioPatternBaseline:
    name = "presidio-patterns"

    def __init__(self, score_threshold: float = 0.0):
        from presidio_analyzer import predefined_recognizers

        self.recognizers = []
        for class_name in _RECOGNIZERS:
            recognizer_class = getattr(predefined_recognizers, class_name, None)
            if recognizer_class is not None:
                recognizer = recognizer_class()
                self.recognizers.append((recognizer, list(recognizer.supported_entities)))
        self.score_threshold = score_threshold

    def detect(self, text: str) -> list[PhiSpan]:
        from notenlp.deid.deidentifier import _resolve

        spans = []
        for recognizer, entities in self.recognizers:
            for result in recognizer.analyze(text, entities, None) or []:
                phi_type = PRESIDIO_TO_PHI.get(result.entity_type, "")
                if phi_type and result.score > self.score_threshold:
                    spans.append(PhiSpan(result.start, result.end, phi_type, result.entity_type, "pattern",
                                         result.score))
        return _resolve(spans)
