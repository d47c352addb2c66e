"""Evaluate algorithms on scenarios: ``python evaluate.py --help``. The program is :mod:`eglb.cli.evaluate`
(installed: ``eglb-evaluate``)."""

from eglb.cli.evaluate import run

if __name__ == "__main__":
    run()
