"""What ``metaview export`` can be asked for: quantisation modes, I/O types, their check.

Modes (``--quantize``):

- ``float32``: plain conversion;
- ``float16``: weights stored as float16, computed in float32;
- ``dynamic``: dynamic-range quantisation (int8 weights, float activations);
- ``int8``: full-integer quantisation, calibrated on meta-images from the run's
  training split; inputs and outputs are int8 (the default), uint8 or float32
  (``--io-type``), as microcontrollers need.

:class:`ExportError` is the one error of every export step. This module imports
nothing heavy, so the CLI builds its choices from :data:`MODES` and :data:`IO_TYPES`
without loading the export.
"""

from __future__ import annotations

from train.errors import TrainError

MODES = ("float32", "float16", "dynamic", "int8")
IO_TYPES = ("float32", "int8", "uint8")


class ExportError(TrainError):
    """A model cannot be exported as asked (bad mode, no test split, unwritable path)."""


def export_key(mode: str, io_type: str) -> str:
    """Metric/artifact name of an export: ``mode``, or ``mode-io_type`` for non-float I/O."""
    return mode if io_type == "float32" else f"{mode}-{io_type}"


def check_options(mode: str, io_type: str | None) -> str:
    """Validate a mode and I/O type; return the I/O type to use.

    ``io_type=None`` means int8 I/O for ``int8`` and float32 otherwise.

    Raises
    ------
    ExportError
        For an unknown mode or I/O type, or integer I/O without full-integer quantisation.
    """
    if mode not in MODES:
        raise ExportError(f"unknown quantisation mode {mode!r}: expected one of {', '.join(MODES)}")
    if io_type is None:
        return "int8" if mode == "int8" else "float32"
    if io_type not in IO_TYPES:
        raise ExportError(
            f"unknown input/output type {io_type!r}: expected one of {', '.join(IO_TYPES)}"
        )
    if io_type != "float32" and mode != "int8":
        raise ExportError(
            f"--io-type {io_type} needs --quantize int8 (full-integer); a {mode} model takes "
            "float32 inputs"
        )
    return io_type
