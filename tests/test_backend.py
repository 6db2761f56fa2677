"""render.backend: which headless GL backend a process draws with, probed in a child once.

The probe's child is replaced by a few lines of Python where a test needs it to succeed,
fail or hang, so that no test here needs a GL context or takes more than a second or two.
"""

from __future__ import annotations

import sys
import types

import pytest

from render import backend
from render.errors import RenderError


@pytest.fixture
def fresh(monkeypatch):
    """The module as in a new process: nothing resolved, no probe started, no platform set."""
    monkeypatch.setattr(backend, "_auto_backend", None)
    monkeypatch.setattr(backend, "_probes", {})
    monkeypatch.delenv("PYOPENGL_PLATFORM", raising=False)
    return backend


@pytest.fixture
def probes(fresh, monkeypatch) -> types.SimpleNamespace:
    """A stand-in for probe_backend: ``asked`` lists its calls, ``answers`` gives its returns."""
    fake = types.SimpleNamespace(asked=[], answers={})

    def probe(name, timeout=backend._PROBE_TIMEOUT_S):
        fake.asked.append(name)
        return fake.answers[name]

    monkeypatch.setattr(backend, "probe_backend", probe)
    return fake


def _child_code(monkeypatch, code: str) -> None:
    """Make the probe's child run ``code`` instead of drawing a triangle."""
    monkeypatch.setattr(backend, "_PROBE_CODE", code)


def test_egl_and_osmesa_pass_through_without_a_probe(probes):
    assert backend.resolve_backend("egl") == "egl"
    assert backend.resolve_backend("osmesa") == "osmesa"
    assert probes.asked == [] and backend._auto_backend is None  # "auto" is still unresolved


@pytest.mark.parametrize("name", ["glx", "EGL", "", "default"])
def test_other_names_are_refused_saying_what_was_expected(probes, name):
    with pytest.raises(RenderError, match="expected 'auto', 'egl' or 'osmesa'") as err:
        backend.resolve_backend(name)
    assert repr(name) in str(err.value)
    assert probes.asked == []


@pytest.mark.parametrize("env, want", [("egl", "egl"), ("OSMesa", "osmesa")])
def test_pyopengl_platform_naming_a_backend_is_taken_without_a_probe(
    probes, monkeypatch, env, want
):
    monkeypatch.setenv("PYOPENGL_PLATFORM", env)
    backend.start_probe()  # the backend is known: nothing to start
    assert not backend.probe_started()
    assert backend.resolve_backend("auto") == want
    assert probes.asked == []
    # Cached for the process: a later change of the variable does not move it.
    monkeypatch.setenv("PYOPENGL_PLATFORM", "osmesa" if want == "egl" else "egl")
    assert backend.resolve_backend("auto") == want


def test_auto_probes_egl_first_then_osmesa_and_remembers(probes):
    probes.answers.update(egl="no EGL display", osmesa=None)
    assert backend.resolve_backend("auto") == "osmesa"
    assert probes.asked == ["egl", "osmesa"]
    assert backend.resolve_backend("auto") == "osmesa"
    assert probes.asked == ["egl", "osmesa"]  # once per process


def test_auto_stops_at_the_first_backend_that_works(probes):
    probes.answers.update(egl=None, osmesa="never asked")
    assert backend.resolve_backend("auto") == "egl"
    assert probes.asked == ["egl"]


def test_auto_without_any_backend_names_each_reason(probes):
    probes.answers.update(egl="no EGL display", osmesa="libOSMesa.so not found")
    with pytest.raises(RenderError) as err:
        backend.resolve_backend("auto")
    message = str(err.value)
    assert "egl: no EGL display" in message and "osmesa: libOSMesa.so not found" in message
    assert "libosmesa6" in message  # and what to install
    assert backend._auto_backend is None  # nothing cached: a later call tries again


def test_probe_of_a_backend_that_cannot_work_returns_its_reason(fresh):
    # A platform name no GL library knows: the child fails, the probe does not raise.
    why = backend.probe_backend("no-such-platform", timeout=60)
    assert isinstance(why, str)
    assert "RenderError" in why and "'no-such-platform'" in why  # the child's last error line


def test_probe_reports_a_silent_failure_and_a_hang(fresh, monkeypatch):
    _child_code(monkeypatch, "raise SystemExit(3)")
    assert backend.probe_backend("egl") == "exit code 3"
    _child_code(monkeypatch, "import time; time.sleep(60)")
    assert backend.probe_backend("egl", timeout=1) == "no frame within 1 s"


def test_probe_of_a_working_backend_returns_none_and_sees_its_platform(fresh, monkeypatch):
    _child_code(
        monkeypatch, "import os, sys; assert os.environ['PYOPENGL_PLATFORM'] == sys.argv[1]"
    )
    assert backend.probe_backend("osmesa") is None


def test_a_probe_started_ahead_is_the_one_collected(fresh, monkeypatch):
    _child_code(monkeypatch, "raise SystemExit(7)")
    backend.start_probe()
    assert backend.probe_started()
    started = backend._probes["egl"]
    backend.start_probe()  # one is running: no second
    assert backend._probes == {"egl": started}
    _child_code(monkeypatch, "pass")  # a fresh child would succeed; the started one fails
    assert backend.probe_backend("egl") == "exit code 7"
    assert not backend.probe_started()


def test_set_platform_sets_the_variable_and_refuses_to_switch_after_import(monkeypatch):
    monkeypatch.setenv("PYOPENGL_PLATFORM", "egl")  # restored after the test
    monkeypatch.delitem(sys.modules, "OpenGL", raising=False)  # not imported yet
    backend.set_platform("osmesa")
    assert backend.os.environ["PYOPENGL_PLATFORM"] == "osmesa"
    # Once OpenGL is imported (for osmesa here), the same backend is fine and another is not.
    monkeypatch.setitem(sys.modules, "OpenGL", types.ModuleType("OpenGL"))
    backend.set_platform("osmesa")
    with pytest.raises(RenderError, match="already loaded OpenGL for 'osmesa'; cannot switch"):
        backend.set_platform("egl")
    assert backend.os.environ["PYOPENGL_PLATFORM"] == "osmesa"
