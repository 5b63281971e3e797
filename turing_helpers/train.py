"""Training entry point: ``python -m turing_helpers.train {convlstm,ddpm} [options]``.

Each model's trainer lives in :mod:`turing_helpers.training` and contributes its own
options; ``python -m turing_helpers.train MODEL --help`` lists them.
"""
from __future__ import annotations

import argparse
import importlib

TRAINERS = {"convlstm": "turing_helpers.training.convlstm", "ddpm": "turing_helpers.training.ddpm"}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m turing_helpers.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    subparsers = parser.add_subparsers(dest="model", required=True)
    for name, module_name in TRAINERS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue  # trainer not written yet
        sub = subparsers.add_parser(name, help=module.__doc__.splitlines()[0])
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    args = parser.parse_args(argv)
    try:
        importlib.import_module(TRAINERS[args.model]).check_arguments(args)
    except ValueError as error:
        parser.error(str(error))  # usage and the message on stderr, exit status 2
    args.run(args)


if __name__ == "__main__":
    main()
