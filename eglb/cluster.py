"""Where the work runs: this machine's processes (the default) or Ray tasks (``--ray [ADDRESS]``)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from eglb.envs.errors import InputError
from eglb.envs.validation import check_range, describe, typed_arguments
from eglb.evaluation import Mapper

#: A host name, an IPv4 address or a bracketed IPv6 address.
_HOST = re.compile(r"[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]")


def check_ray_address(address: str | None) -> str | None:
    """``address`` if it is one mapper_for and Ray understand (None, "local", "auto", HOST:PORT or
    ray://HOST:PORT with a port in 1..65535), else an InputError saying what was expected."""
    if address in (None, "local", "auto"):
        return address
    if isinstance(address, str):
        host, sep, port = address.removeprefix("ray://").rpartition(":")
        if sep and _HOST.fullmatch(host) and port.isascii() and port.isdigit() and 1 <= int(port) <= 65535:
            return address
    raise InputError(
        "the Ray address (--ray) must be 'auto', HOST:PORT or ray://HOST:PORT with a port in 1..65535 "
        f"(a bare --ray starts a local Ray), got {describe(address)}"
    )


@contextlib.contextmanager
@typed_arguments
def mapper_for(address: str | None, items_per_task: int | None = 1) -> Iterator[Mapper | None]:
    """The mapper of evaluation cases or labelling LPs for the block.

    Args:
        address: None: this machine, no Ray (yields None: each function's own local default);
            "local": a local Ray started for the block; "auto", "HOST:PORT" or "ray://HOST:PORT": a
            running cluster.
        items_per_task: items each Ray task handles (more for tiny items such as labelling LPs; None: a
            few tasks per CPU of the cluster).
    """
    check_ray_address(address)
    check_range("items_per_task", items_per_task, 1)
    if address is None:
        yield None
        return
    from eglb.sweeps.ray_map import RayMapper, ray_session

    with ray_session(address):
        yield RayMapper(items_per_task=items_per_task)
