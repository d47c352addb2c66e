"""Where the work runs: this machine's processes (the default) or Ray tasks (``--ray [ADDRESS]``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from eglb.evaluation import Mapper


@contextlib.contextmanager
def mapper_for(address: str | None, items_per_task: int | None = 1) -> Iterator[Mapper | None]:
    """The mapper of evaluation cases or labelling LPs for the block.

    Args:
        address: None: this machine, no Ray (yields None: each function's own local default);
            "local": a local Ray started for the block; "auto", "HOST:PORT" or "ray://HOST:PORT": a
            running cluster.
        items_per_task: items each Ray task handles (more for tiny items such as labelling LPs; None: a
            few tasks per CPU of the cluster).
    """
    if address is None:
        yield None
        return
    from eglb.sweeps.ray_map import RayMapper, ray_session

    with ray_session(address):
        yield RayMapper(items_per_task=items_per_task)
