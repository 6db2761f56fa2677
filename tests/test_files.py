"""base.files: every output is written whole or not at all, with the usual permissions."""

from __future__ import annotations

import os

import numpy as np
import pytest

from base.files import atomic_file, atomic_write_bytes, atomic_write_text, printable


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_bytes_replace_the_file_in_one_step_and_leave_nothing_else(tmp_path):
    out = tmp_path / "deep" / "a.bin"
    assert atomic_write_bytes(out, b"first") == out
    atomic_write_bytes(out, b"second")
    assert out.read_bytes() == b"second"
    assert [p.name for p in out.parent.iterdir()] == ["a.bin"]
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()


def test_text_is_utf8_and_a_non_utf8_name_is_escaped(tmp_path):
    name = os.fsdecode(b"caf\xe9.stl")
    atomic_write_text(tmp_path / "t.txt", f"{name} and café\n")
    assert (tmp_path / "t.txt").read_bytes().decode("utf-8") == "caf\\xe9.stl and café\n"
    assert printable("plain") == "plain"


def test_atomic_file_replaces_on_success_with_the_writers_suffix(tmp_path):
    out = tmp_path / "x.npz"
    out.write_bytes(b"old")
    with atomic_file(out, suffix=".weights.h5") as tmp:
        assert tmp.parent == tmp_path and tmp.name.endswith(".weights.h5") and tmp != out
        with open(tmp, "wb") as f:
            np.savez(f, a=np.arange(3))
        assert out.read_bytes() == b"old"  # nothing changes until the block ends
    assert np.load(out)["a"].tolist() == [0, 1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["x.npz"]
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path, error):
    out = tmp_path / "x.bin"
    out.write_bytes(b"old")
    with pytest.raises(error):
        with atomic_file(out) as tmp:
            tmp.write_bytes(b"half")
            raise error("interrupted mid-write")
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.bin"]
