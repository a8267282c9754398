"""``notenlp models``: train, evaluate, register, promote, list and serve the models in MLflow.

Tracking goes to ``NOTENLP_MLFLOW_TRACKING_URI`` when set, else the
local sqlite store under ``NOTENLP_HOME`` (``mlruns/mlflow.db``).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys

from notenlp.config import Settings
from notenlp.metrics import format_table
from notenlp.lifecycle.catalog import PIPELINE_MODEL, load_catalog


def add_arguments(parser: argparse.ArgumentParser) -> None:
    names = ", ".join(load_catalog())
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    train = sub.add_parser("train", help="run the model's recipe models/<name>/train.py when it exists",
                           description="Run models/<name>/train.py; arguments after NAME go to the recipe.")
    train.add_argument("name", help=f"model name ({names}; the notenlp- prefix may be left out)")
    train.add_argument("recipe_args", nargs=argparse.REMAINDER, help="arguments passed on to train.py")

    evaluate = sub.add_parser("evaluate", help="score a model on its gold sets (demo gold, corpora dev gold)")
    evaluate.add_argument("name")
    evaluate.add_argument("--model-uri", help="score a logged model, e.g. models:/notenlp-ner@champion "
                          "(default: the model's pipeline config as it is on disk now)")
    evaluate.add_argument("--gold", nargs="+", help="gold sets: demo, negex or JSONL gold files (default: catalog's)")

    register = sub.add_parser("register", help="register a new version (evaluates first unless metrics are given)")
    register.add_argument("name")
    register.add_argument("--metric", action="append", default=[], metavar="KEY=VALUE",
                          help="a metric to record with the version (repeatable)")
    register.add_argument("--metrics-json", help="a JSON file of metrics to record with the version")
    register.add_argument("--model-dir", help="register this saved MLflow model folder instead of the config")
    register.add_argument("--promote", action="store_true", help="apply the promotion gate right after")

    promote = sub.add_parser("promote", help="move the champion alias when the version passes the gate")
    promote.add_argument("name")
    promote.add_argument("version", nargs="?", help="version to promote (default: the latest)")
    promote.add_argument("--margin", type=float, help="largest allowed drop of a tracked metric (default: catalog's)")
    promote.add_argument("--force", action="store_true", help="promote even when the gate says no (recorded)")

    listing = sub.add_parser("list", help="versions, aliases, promotion decisions and metrics")
    listing.add_argument("name", nargs="?")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")

    serve = sub.add_parser("serve", help="print (or run) the `mlflow models serve` command for a champion")
    serve.add_argument("name", nargs="?", default=PIPELINE_MODEL)
    serve.add_argument("--alias", default="champion")
    serve.add_argument("--port", type=int, default=5001)
    serve.add_argument("--execute", action="store_true", help="run the server instead of printing the command")

    ui = sub.add_parser("ui", help="print the `mlflow ui` command for this tracking store")
    ui.add_argument("--port", type=int, default=5000)


def _metrics_from_args(args: argparse.Namespace) -> dict[str, float]:
    metrics: dict[str, float] = {}
    if args.metrics_json:
        with open(args.metrics_json, encoding="utf-8") as handle:
            metrics.update({k: float(v) for k, v in json.load(handle).items()})
    for item in args.metric:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--metric expects KEY=VALUE, got {item!r}")
        metrics[key] = float(value)
    return metrics


def _print_metrics(metrics: dict[str, float]) -> None:
    rows = [{"metric": k, "value": v} for k, v in sorted(metrics.items())]
    print(format_table(rows, ["metric", "value"]) if rows else "no metrics (no gold set was available)")


def tracking_uri(settings: Settings) -> str:
    return settings.mlflow_tracking_uri


def serve_command(name: str, alias: str, port: int) -> list[str]:
    return ["mlflow", "models", "serve", "-m", f"models:/{name}@{alias}", "--env-manager", "local",
            "-h", "127.0.0.1", "-p", str(port)]


def ui_command(port: int, settings: Settings) -> list[str]:
    return ["mlflow", "ui", "--backend-store-uri", tracking_uri(settings), "-h", "127.0.0.1", "-p", str(port)]


def run(args: argparse.Namespace) -> int:
    from notenlp.lifecycle import steps

    settings = Settings.from_env()
    if args.action == "train":
        result = steps.train(args.name, extra_args=args.recipe_args, settings=settings)
        print(f"{result['name']}: " + ("trained with " + result["recipe"] if result["trained"] else "no recipe"))
        if result["metrics"]:
            _print_metrics(result["metrics"])
    elif args.action == "evaluate":
        _print_metrics(steps.evaluate(args.name, model_uri=args.model_uri, gold=args.gold, settings=settings))
    elif args.action == "register":
        metrics = _metrics_from_args(args) or steps.evaluate(args.name, settings=settings)
        version = steps.register(args.name, metrics, model_dir=args.model_dir, settings=settings)
        print(f"registered version {version}")
        if args.promote:
            decision = steps.promote(args.name, version, settings=settings)
            print(("promoted: " if decision.promoted else "not promoted: ") + decision.reason)
    elif args.action == "promote":
        from notenlp.lifecycle.catalog import get_spec
        from notenlp.lifecycle.registry import latest_version

        version = args.version or latest_version(get_spec(args.name).name, settings=settings)
        if version is None:
            print(f"{args.name} has no registered version", file=sys.stderr)
            return 1
        decision = steps.promote(args.name, version, margin=args.margin, force=args.force, settings=settings)
        print(f"{decision.name} v{decision.version} " + ("promoted: " if decision.promoted else "not promoted: ")
              + decision.reason)
    elif args.action == "list":
        from notenlp.lifecycle.registry import list_versions

        rows = list_versions(args.name, settings=settings)
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            for row in rows:
                row["aliases"] = ",".join(row["aliases"])
                row["metrics"] = " ".join(f"{k}={v:.3f}" for k, v in sorted(row["metrics"].items()))
            print(format_table(rows, ["name", "version", "aliases", "decision", "metrics"]) if rows
                  else "no registered models")
    elif args.action == "serve":
        from notenlp.lifecycle.catalog import get_spec

        command = serve_command(get_spec(args.name).name, args.alias, args.port)
        if not args.execute:
            print(f"MLFLOW_TRACKING_URI={shlex.quote(tracking_uri(settings))} {shlex.join(command)}")
            return 0
        os.environ["MLFLOW_TRACKING_URI"] = tracking_uri(settings)
        # mlflow and the uvicorn it starts by name must be this interpreter's, wherever PATH points.
        os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
        os.execv(sys.executable, [sys.executable, "-m", *command])
    elif args.action == "ui":
        print(shlex.join(ui_command(args.port, settings)))
    return 0
