"""A Mapper that runs each item as a Ray task: results in the items' order, retried on a lost worker.

    with ray_session("auto"):                       # or None: a local Ray started for the block
        rows = RayMapper()(case_rows_of, cases)     # == [case_rows_of(c) for c in cases]

Each task asks Ray for ``cpus_per_task`` CPUs, so a cluster runs as many at once as it has CPUs.
A task whose worker process or node dies is run again (``max_retries``); a task that raises is not
(the error is deterministic: our own errors come back as themselves, so the command line prints
one line). Results come back in order, one per item, whatever the retries: no row is lost or doubled.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator, Sequence

import ray
from eglb.envs.errors import InputError, SolverError
from ray.exceptions import RayTaskError

#: ``--ray`` given without an address: start a local Ray for the run.
LOCAL = "local"
#: Tasks per CPU when items are grouped automatically: enough to balance uneven items, few enough
#: that Ray's per-task cost (about a millisecond; benchmarks/bench_ray.py) stays small.
TASKS_PER_CPU = 4


@contextlib.contextmanager
def ray_session(address: str | None = LOCAL, num_cpus: int | None = None, object_store_mb: int | None = None) -> Iterator[None]:
    """Connect to Ray for the block: ``LOCAL`` (or None) starts a local Ray (``num_cpus``: default all
    of this machine's); ``"auto"``, ``"HOST:PORT"`` or ``"ray://HOST:PORT"`` join a running cluster.
    A Ray already connected in this process is used as it is and left running."""
    if ray.is_initialized():
        yield
        return
    options = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    try:
        if address in (None, LOCAL):
            # address="local": always a new Ray of this run's own, even where another is running on the machine
            # (without it, ray.init joins that one and refuses num_cpus).
            ray.init(
                address="local",
                num_cpus=num_cpus,
                object_store_memory=object_store_mb * 2**20 if object_store_mb else None,
                **options,
            )
        else:
            ray.init(address=address, **options)
    except ConnectionError as exc:
        raise InputError(f"--ray {address}: cannot connect to a Ray cluster there ({str(exc).splitlines()[0]})") from None
    try:
        yield
    finally:
        ray.shutdown()


def _apply_all(function: Callable, items: Sequence) -> list:
    return [function(item) for item in items]


# Registered lazily: a remote function is exported to the cluster the first time it is used.
_remote_apply = ray.remote(_apply_all)


class RayMapper:
    """``mapper(function, items) -> [function(item) for item in items]`` on Ray tasks.

    Args:
        cpus_per_task: CPUs each task reserves (1: one LP or one rollout at a time per CPU).
        max_retries: runs of a task again after its worker or node died.
        items_per_task: items handled by one task (more amortizes Ray's per-task overhead on tiny
            items); None: about ``TASKS_PER_CPU`` tasks per CPU of the cluster.
    """

    def __init__(self, cpus_per_task: float = 1, max_retries: int = 3, items_per_task: int | None = 1):
        if cpus_per_task <= 0 or max_retries < 0 or (items_per_task is not None and items_per_task < 1):
            raise InputError("RayMapper needs cpus_per_task > 0, max_retries >= 0 and items_per_task >= 1")
        self.cpus_per_task, self.max_retries, self.items_per_task = cpus_per_task, max_retries, items_per_task

    def __call__(self, function: Callable, items: Sequence) -> list:
        items = list(items)
        if not items:
            return []
        if not ray.is_initialized():
            raise InputError("RayMapper needs a connected Ray (use eglb.sweeps.ray_map.ray_session)")
        shared = ray.put(function)  # shipped once, not once per task
        task = _remote_apply.options(num_cpus=self.cpus_per_task, max_retries=self.max_retries, retry_exceptions=False)
        size = self.items_per_task or max(1, math.ceil(len(items) / (TASKS_PER_CPU * cluster_cpus())))
        refs = [task.remote(shared, items[k : k + size]) for k in range(0, len(items), size)]
        try:
            chunks = ray.get(refs)
        except RayTaskError as exc:
            if isinstance(exc.cause, (InputError, SolverError)):
                raise exc.cause from None
            raise
        return [result for chunk in chunks for result in chunk]


def cluster_cpus() -> int:
    """CPUs of the connected Ray cluster (for sizing tasks)."""
    return int(ray.cluster_resources().get("CPU", os.cpu_count() or 1))
