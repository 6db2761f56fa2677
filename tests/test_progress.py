"""base.progress: a bar on a terminal, throttled plain lines elsewhere, none when disabled."""

from __future__ import annotations

import io
import logging

import pytest
from _render_fixtures import binary_stl, box_triangles, gl_backend, write

from base.progress import progress, progress_enabled

__all__ = ["gl_backend"]


class FakeClock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_are_throttled_counted_and_end_with_a_final_line():
    out, clock = io.StringIO(), FakeClock()
    with progress(300, "render", "file", enabled=True, file=out, interval=5, clock=clock) as bar:
        assert bar.mode == "lines"
        for k in range(120):  # 120 files in 4 s: under the interval, no line yet
            clock.now = 100 + 4 * (k + 1) / 120
            bar.update(1)
        assert out.getvalue() == ""
        clock.now = 105.0  # 5 s since the start: one line
        bar.update(0)
        bar.set_postfix(failed=2)
        for k in range(10):  # more updates within the next interval: no more lines
            clock.now = 105 + 0.4 * (k + 1)
            bar.update(1)
        clock.now = 111.0
        bar.update(170)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3, lines
    assert lines[0] == "render: 120/300 files (40%), 24.0 files/s, ETA 7.5 s"
    assert lines[1].startswith("render: 300/300 files (100%), ") and "failed=2" in lines[1]
    assert lines[2].startswith("render: 300/300 files (100%) in 11 s, ")
    assert lines[2].endswith("files/s, failed=2")
    assert "\r" not in out.getvalue()


def test_a_block_that_raises_ends_with_a_stopped_line():
    out, clock = io.StringIO(), FakeClock()
    with pytest.raises(KeyboardInterrupt):
        with progress(10, "synth", "part", enabled=True, file=out, clock=clock) as bar:
            clock.now += 2
            bar.update(3)
            raise KeyboardInterrupt
    assert out.getvalue() == "synth: stopped at 3/10 parts (30%) in 2.0 s, 1.5 parts/s\n"


def test_an_unknown_total_counts_without_percentage_until_it_is_set():
    out, clock = io.StringIO(), FakeClock()
    bar = progress(None, "reach", "part", enabled=True, file=out, interval=1, clock=clock)
    clock.now += 30  # finding the files: not counted in the rate once the total is set
    bar.set_total(4)
    clock.now += 2
    bar.update(2)
    bar.close()
    bar.close()  # idempotent
    assert out.getvalue().splitlines() == [
        "reach: 2/4 parts (50%), 1.0 parts/s, ETA 2.0 s",
        "reach: 2/4 parts (50%) in 2.0 s, 1.0 parts/s",
    ]
    out2 = io.StringIO()
    with progress(enabled=True, file=out2, unit="part", desc="reach", clock=clock) as bar:
        clock.now += 4
        bar.update(1)
    assert out2.getvalue() == "reach: 1 part in 4.0 s, 4.0 s/part\n"


def test_disabled_writes_nothing():
    out, clock = io.StringIO(), FakeClock()
    with progress(5, "render", "file", enabled=False, file=out, interval=0, clock=clock) as bar:
        assert bar.mode == "off"
        for _ in range(5):
            clock.now += 10
            bar.update(1)
        bar.set_postfix(failed=0)
    assert out.getvalue() == ""


def test_enabled_none_follows_the_logging_level(caplog):
    caplog.set_level(logging.WARNING)  # metaview -q
    assert not progress_enabled(None)
    assert progress(3, file=io.StringIO()).mode == "off"
    caplog.set_level(logging.INFO)
    assert progress_enabled(None)
    assert progress(3, file=io.StringIO()).mode == "lines"
    assert progress_enabled(True) and not progress_enabled(False)


def test_a_terminal_gets_a_tqdm_bar():
    out = io.StringIO()
    with progress(4, "render", "file", enabled=True, file=out, tty=True) as bar:
        assert bar.mode == "bar"
        bar.update(4)
        bar.set_postfix(failed=0)
    assert "render" in out.getvalue() and "4/4" in out.getvalue()


def test_synth_progress_to_a_log_file_is_plain_lines(tmp_path, capsys, caplog):
    from metaview.cli import build_parser

    caplog.set_level(logging.INFO)
    args = build_parser().parse_args(
        ["synth", str(tmp_path / "parts"), "--per-class", "1", "--classes", "x_plus,z_plus"]
    )
    assert args.func(args) == 0
    err = capsys.readouterr().err
    assert "\r" not in err
    assert "synth: 2/2 parts (100%) in " in err


@pytest.mark.gl
def test_render_progress_to_a_log_file_is_plain_lines(gl_backend, tmp_path, capsys):
    from render import RenderConfig
    from render.batch import render_folder

    for name in ("a/one.stl", "b/two.stl"):
        write(tmp_path / "in" / name, binary_stl(box_triangles()))
    cfg = RenderConfig(variants=1, tile=8, rows=2, cols=2, backend=gl_backend)
    res = render_folder(tmp_path / "in", tmp_path / "out", cfg, workers=1, progress=True)
    assert res.rendered == 2
    err = capsys.readouterr().err
    assert "\r" not in err
    assert "render: 2/2 files (100%) in " in err and "failed=0" in err
    # --no-progress: nothing.
    render_folder(tmp_path / "in", tmp_path / "out2", cfg, workers=1, progress=False)
    assert "render:" not in capsys.readouterr().err
