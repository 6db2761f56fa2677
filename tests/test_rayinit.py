"""base.rayinit: Ray may replace the SIGTERM handler while it starts; ours comes back."""

from __future__ import annotations

import signal

import pytest

from base.rayinit import init_ray


class FakeRay:
    """Does what ray.init does to signals: installs its own SIGTERM handler."""

    def __init__(self, fail: bool = False):
        self.fail = fail
        self.kwargs = None
        self.blocked = None

    def init(self, **kwargs):
        self.kwargs = kwargs
        self.blocked = signal.SIGTERM in signal.pthread_sigmask(signal.SIG_BLOCK, set())
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if self.fail:
            raise ConnectionError("no cluster at HEAD:6379")


def test_the_callers_sigterm_handler_survives_ray_starting():
    def ours(signum, frame):  # pragma: no cover - never called
        pass

    saved = signal.signal(signal.SIGTERM, ours)
    try:
        ray = FakeRay()
        init_ray(ray, address="local", num_cpus=2)
        assert ray.kwargs == {"address": "local", "num_cpus": 2}
        assert ray.blocked  # SIGTERM held back while Ray started
        assert signal.getsignal(signal.SIGTERM) is ours
        assert signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, set())
        with pytest.raises(ConnectionError, match="HEAD:6379"):
            init_ray(FakeRay(fail=True))
        assert signal.getsignal(signal.SIGTERM) is ours
    finally:
        signal.signal(signal.SIGTERM, saved)
