"""`metaview export` options: an unknown mode or I/O type is refused
(train.inference.export_options).
"""

from __future__ import annotations

import pytest
from _toy_fixtures import cli

pytestmark = pytest.mark.tf


def test_unknown_mode_is_refused(capsys):
    from train.inference.export_options import ExportError, check_options

    with pytest.raises(ExportError, match="unknown quantisation mode 'int4'"):
        check_options("int4", None)
    with pytest.raises(ExportError, match="--io-type uint8 needs --quantize int8"):
        check_options("float16", "uint8")
    with pytest.raises(ExportError, match="unknown input/output type 'int16'"):
        check_options("int8", "int16")
    with pytest.raises(SystemExit) as exc:
        cli(["export", "--quantize", "int4", "m.tflite"])
    assert exc.value.code == 1  # a bad option is a user error
    assert "invalid choice: 'int4'" in capsys.readouterr().err
