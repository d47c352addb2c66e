"""Train a policy: ``python train.py --help``. The program is :mod:`eglb.cli.train` (installed: ``eglb-train``)."""

from eglb.cli.train import run

if __name__ == "__main__":
    run()
