"""The exported files: an output path that cannot be written is refused before any work
(train.inference.writing).
"""

from __future__ import annotations

import pytest
from _toy_fixtures import cli

pytestmark = pytest.mark.tf


def test_unwritable_paths_are_refused_before_any_work(tmp_path, capsys):
    from train.inference.export_options import ExportError
    from train.inference.writing import check_writable

    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ExportError, match="cannot write there"):
        check_writable(a_file / "m.tflite")
    (tmp_path / "d.tflite").mkdir()
    with pytest.raises(ExportError, match="is a folder"):
        check_writable(tmp_path / "d.tflite")
    with pytest.raises(ExportError, match=r"expected an output path ending in \.tflite"):
        check_writable(tmp_path / "m.bin")
    # Through the CLI: refused with exit 1 even though there are no runs at all.
    assert cli(["export", str(a_file / "m.tflite")]) == 1
    assert "cannot write there" in capsys.readouterr().err
