"""neuromodlab.grading.kernel_wait: the sliced wait returns what the original wait returns, at
the same deadline, and recovers a lost wake-up within one slice (the nbclient#312 scenario)."""

from __future__ import annotations

import asyncio
import time
from queue import Empty

import pytest

channels = pytest.importorskip("jupyter_client.channels")

from neuromodlab.grading import kernel_wait  # noqa: E402


class LostWakeup:
    """A fake ``get_msg``: the message arrives ``arrival`` s after the start, but a poll that
    began before it arrived only sees it at the poll's own timeout (the wake-up is lost)."""

    def __init__(self, arrival: float | None):
        self.start, self.arrival, self.timeouts = time.monotonic(), arrival, []

    async def __call__(self, channel, timeout=None):
        self.timeouts.append(timeout)
        began = time.monotonic() - self.start
        if self.arrival is not None and began >= self.arrival:
            return {"msg": "reply"}
        await asyncio.sleep(timeout)
        raise Empty


def _patched(monkeypatch, fake):
    monkeypatch.setattr(channels.AsyncZMQSocketChannel, "get_msg", fake)
    assert kernel_wait.install()
    assert kernel_wait.install()  # idempotent: wraps once
    return channels.AsyncZMQSocketChannel.get_msg


def test_lost_wakeup_costs_one_slice_not_the_timeout(monkeypatch):
    fake = LostWakeup(arrival=0.1)
    get_msg = _patched(monkeypatch, fake)
    start = time.monotonic()
    msg = asyncio.run(get_msg(object(), timeout=30))
    waited = time.monotonic() - start
    assert msg == {"msg": "reply"}
    assert waited < 0.1 + 2 * kernel_wait.SLICE_S + 0.5  # unpatched: 30 s
    assert max(fake.timeouts) <= kernel_wait.SLICE_S


def test_the_unpatched_fake_really_waits_the_whole_timeout():
    fake = LostWakeup(arrival=0.05)
    start = time.monotonic()
    with pytest.raises(Empty):  # the poll began before the arrival and missed it
        asyncio.run(fake(object(), timeout=0.6))
    assert time.monotonic() - start >= 0.6


def test_empty_is_raised_at_the_same_deadline(monkeypatch):
    get_msg = _patched(monkeypatch, LostWakeup(arrival=None))
    start = time.monotonic()
    with pytest.raises(Empty):
        asyncio.run(get_msg(object(), timeout=0.6))
    assert 0.6 <= time.monotonic() - start < 0.6 + kernel_wait.SLICE_S + 0.5


def test_no_timeout_waits_until_the_message(monkeypatch):
    fake = LostWakeup(arrival=0.4)
    get_msg = _patched(monkeypatch, fake)
    assert asyncio.run(get_msg(object())) == {"msg": "reply"}
    assert len(fake.timeouts) >= 2 and all(t <= kernel_wait.SLICE_S for t in fake.timeouts)


def test_the_course_config_installs_it():
    # Load nbgrader_config.py as nbgrader does (a fresh process, ``get_config`` provided).
    import subprocess
    import sys
    from pathlib import Path

    config = Path(__file__).resolve().parents[1] / "nbgrader_config.py"
    code = ("from traitlets.config import Config\n"
            "from jupyter_client.channels import AsyncZMQSocketChannel as C\n"
            "assert not getattr(C.get_msg, '_neuromodlab_sliced', False)\n"
            f"exec(open({str(config)!r}).read(), {{'get_config': Config, "
            f"'__file__': {str(config)!r}}})\n"
            "print(getattr(C.get_msg, '_neuromodlab_sliced', False))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"
