"""CPU-bound work off the event loop: a real OS thread under gevent, a plain call otherwise.

Under ``workspace serve`` every request, socket and background task is a greenlet on one loop; a
greenlet that computes for 200 ms (rendering and signing a PDF) stalls every socket of the process
for that long.  ``run`` hands such a function to gevent's pool of real threads and parks only the
calling greenlet until it returns; the loop goes on serving.  The function must be pure: no Flask
context, no database session (those belong to the loop's greenlets), only its arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import gevent
from gevent import monkey

T = TypeVar("T")


def under_gevent() -> bool:
    """True when gevent has patched threading (``workspace serve``)."""
    return bool(monkey.is_module_patched("threading"))


def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Return ``fn(*args, **kwargs)``, computed in a real thread when the process runs gevent."""
    if under_gevent():
        return gevent.get_hub().threadpool.apply(fn, args, kwargs)
    return fn(*args, **kwargs)
