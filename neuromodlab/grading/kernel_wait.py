"""Work around jupyter/nbclient#312: a notebook cell that displays a widget sometimes leaves
nbclient waiting for the kernel's reply until the cell timeout (120 s here), although the kernel
answered at once. We saw it in 2 of 16 notebooks of one test run, each time right after the
first widget of a notebook, and the time lost was the whole timeout (the cell itself took 0.6 s).

What we believe happens: the client waits for a reply with a single ``zmq.asyncio`` poll whose
timeout is the cell timeout; the wake-up for the reply gets lost while widget messages arrive
on the other channel, and the poll only notices the waiting reply when it times out (so no
``CellTimeoutError`` is raised: the cell just took two minutes). :func:`install` makes every
wait of an asyncio kernel client poll in short slices up to the same deadline, so a lost
wake-up costs at most :data:`SLICE_S` seconds. The result of every wait is unchanged: the same
message, or ``queue.Empty`` at the same deadline.

``nbgrader_config.py`` calls :func:`install`, so every nbgrader command run in the course
(autograde in particular) has it.
"""

from __future__ import annotations

import time
from queue import Empty

SLICE_S = 0.25


def install() -> bool:
    """Patch ``jupyter_client``'s asyncio channel once per process; False when that class is
    not where this version of jupyter_client keeps it (then nothing is changed)."""
    try:
        from jupyter_client.channels import AsyncZMQSocketChannel
    except ImportError:
        return False
    original = AsyncZMQSocketChannel.get_msg
    if getattr(original, "_neuromodlab_sliced", False):
        return True

    async def get_msg(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = SLICE_S if deadline is None else deadline - time.monotonic()
            try:
                return await original(self, timeout=min(SLICE_S, max(0.0, remaining)))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    get_msg._neuromodlab_sliced = True
    get_msg.__doc__ = original.__doc__
    AsyncZMQSocketChannel.get_msg = get_msg
    return True
