"""notenlp: offline clinical-notes data engineering into OMOP CDM 5.4 NOTE_NLP.

Importing this package never imports Spark, Airflow, MLflow or Great Expectations;
those are imported lazily by the modules that need them.
"""

__version__ = "0.1.0"
