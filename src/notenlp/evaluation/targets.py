"""Sub-commands whose options live in another module, imported only when that sub-command runs."""

from __future__ import annotations

import argparse
import importlib



def add_target_parsers(parser: argparse.ArgumentParser, targets: dict[str, tuple[str, str]]) -> None:
    """One sub-parser per target; only the chosen target's module is imported (by ``run_target``).

    The target's own options reach it unparsed: ``notenlp.cli`` passes them on as ``target_args``.
    """
    sub = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    for name, (module_name, help_text) in targets.items():
        target = sub.add_parser(name, help=help_text, description=help_text, add_help=False)
        target.set_defaults(_module=module_name, _help=help_text)


def run_target(args: argparse.Namespace, prog: str) -> int:
    module = importlib.import_module(args._module)
    parser = argparse.ArgumentParser(prog=f"{prog} {args.target}", description=args._help)
    module.add_arguments(parser)
    target_args = parser.parse_args(getattr(args, "target_args", []))
    return int(module.run(target_args) or 0)



