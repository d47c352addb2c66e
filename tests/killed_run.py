"""Run train.py in this process and kill it with SIGKILL at a chosen moment (used by test_run_folders.py).

    python tests/killed_run.py WHERE N TRAIN_ARGS...

WHERE is ``write`` (just before the N-th file of the run is renamed into place, i.e. between two
atomic writes), ``log`` (in the middle of the N-th row of the training log, leaving it half written)
or ``never`` (with N a path: write the name of every file renamed into place there, one a line).
Nothing here changes what training does; it only chooses when the process dies.
"""

from __future__ import annotations

import os
import signal
import sys


def main() -> int:
    where, n, *args = sys.argv[1:]
    calls = {"write": 0, "log": 0}
    replace = os.replace

    def counted_replace(source, target):
        calls["write"] += 1
        if where == "write" and calls["write"] == int(n):
            os.kill(os.getpid(), signal.SIGKILL)
        if where == "never":
            with open(n, "a", encoding="utf-8") as trace:
                trace.write(f"{os.fspath(target)}\n")
        return replace(source, target)

    os.replace = counted_replace
    from stable_baselines3.common.logger import CSVOutputFormat

    write = CSVOutputFormat.write

    def interrupted_write(self, key_values, key_excluded, step=0):
        calls["log"] += 1
        if where == "log" and calls["log"] == int(n) and self.keys:
            self.file.write("0.5,12")  # the first cells of a row, then the kill
            self.file.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return write(self, key_values, key_excluded, step)

    CSVOutputFormat.write = interrupted_write
    from eglb.cli import train

    return train.main(args)


if __name__ == "__main__":
    sys.exit(main())
