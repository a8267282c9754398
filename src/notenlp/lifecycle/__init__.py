"""Model lifecycle in MLflow: package pipeline configs as pyfunc models, evaluate, register, promote, serve.

Everything here works on pipeline configs (``notenlp.pipeline``) and the files their component
settings point to, never on one annotator's internals. MLflow is imported lazily.
"""
