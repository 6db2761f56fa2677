"""Read a legacy-format PyTorch ``state_dict`` file (``.pth``) into NumPy arrays, safely.

PyTorch before 1.6 saved ``torch.save(state_dict, f)`` as five things in a row:

1. a pickled magic number (``0x1950a86a20f9469cfc6c``);
2. a pickled protocol version (``1001``);
3. a pickled dict of system information (endianness, type sizes);
4. the pickled object itself, here an ``OrderedDict`` of name -> tensor, where each tensor is
   ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`` and each storage
   is a *persistent id* ``('storage', StorageType, key, location, numel, view)``;
5. a pickled list of storage keys, then for each key: its element count as a little-endian
   int64 followed by the raw little-endian data.

A pickle can name any importable callable and so run code. This reader never lets it: its
unpickler resolves exactly the four globals such a file uses (``collections.OrderedDict``,
``torch._utils._rebuild_tensor_v2`` and the storage types below) to stand-ins of its own and
refuses every other global with :class:`WeightsError`, naming the file and the global.
PyTorch is not needed.

>>> arrays = read_state_dict("efficientnet-lite0-57934424.pth")   # doctest: +SKIP
>>> arrays["_conv_stem.weight"].shape                             # doctest: +SKIP
(32, 3, 3, 3)
"""

from __future__ import annotations

import collections
import io
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from train.errors import TrainError

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

#: Storage classes a legacy file may name -> the little-endian dtype of their data.
STORAGE_DTYPES: dict[str, np.dtype] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class WeightsError(TrainError):
    """A weights file is missing, malformed, or asks for something it may not."""


@dataclass(frozen=True)
class _StorageType:
    name: str

    @property
    def dtype(self) -> np.dtype:
        return STORAGE_DTYPES[self.name]


@dataclass(frozen=True)
class _StorageRef:
    key: str
    dtype: np.dtype
    numel: int


@dataclass(frozen=True)
class _TensorRef:
    storage: _StorageRef
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, hooks=None, *_):
    """Stand-in for ``torch._utils._rebuild_tensor_v2``: record where the tensor's data is."""
    if not isinstance(storage, _StorageRef):
        raise pickle.UnpicklingError(f"a tensor whose storage is {type(storage).__name__}")
    return _TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


class _SafeUnpickler(pickle.Unpickler):
    """An unpickler that knows only the globals of a legacy PyTorch state dict."""

    def __init__(self, file, where: str):
        super().__init__(file)
        self.where = where
        self.storages: dict[str, _StorageRef] = {}

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise WeightsError(
            f"{self.where}: refusing to load: the file names the global {module}.{name}; "
            "a PyTorch state dict needs only collections.OrderedDict, "
            "torch._utils._rebuild_tensor_v2 and torch.*Storage"
        )

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise WeightsError(f"{self.where}: unexpected persistent id {pid!r:.80}")
        _, storage_type, key, _location, numel = pid[:5]
        if not isinstance(storage_type, _StorageType) or len(pid) > 5 and pid[5] is not None:
            raise WeightsError(f"{self.where}: unsupported storage {pid!r:.80}")
        ref = self.storages.get(key)
        if ref is None:
            ref = _StorageRef(str(key), storage_type.dtype, int(numel))
            self.storages[str(key)] = ref
        return ref


def read_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a legacy-format PyTorch state dict without PyTorch and without running its code.

    Parameters
    ----------
    path : str or PathLike
        A ``.pth`` file written by ``torch.save`` before PyTorch 1.6 (not the zip format).

    Returns
    -------
    dict of str -> numpy.ndarray
        Parameter name -> array in PyTorch's layout (for example a conv kernel is
        (out, in, kh, kw)), dtype as stored (float32 for weights, int64 for
        ``num_batches_tracked``), in the file's order.

    Raises
    ------
    WeightsError
        The file is missing, in another format, truncated, or its pickle names a global
        other than the few a state dict needs.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise WeightsError(f"{path}: cannot read the weights file: {e.strerror or e}") from None
    if data[:2] == b"PK":
        raise WeightsError(
            f"{path}: a zip-format PyTorch file (torch >= 1.6); expected the legacy format"
        )
    f = io.BytesIO(data)
    where = str(path)
    try:
        magic = _SafeUnpickler(f, where).load()
        if magic != MAGIC_NUMBER:
            raise WeightsError(f"{path}: not a legacy PyTorch file (magic number {magic!r:.40})")
        protocol = _SafeUnpickler(f, where).load()
        if protocol != PROTOCOL_VERSION:
            raise WeightsError(f"{path}: protocol {protocol!r:.40}, expected {PROTOCOL_VERSION}")
        info = _SafeUnpickler(f, where).load()
        if not isinstance(info, dict) or not info.get("little_endian", False):
            raise WeightsError(f"{path}: expected a little-endian file, got {info!r:.80}")
        unpickler = _SafeUnpickler(f, where)
        obj = unpickler.load()
        keys = _SafeUnpickler(f, where).load()
    except WeightsError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as e:
        raise WeightsError(f"{path}: malformed weights file: {e}") from None
    if not isinstance(obj, dict) or not isinstance(keys, list):
        raise WeightsError(f"{path}: expected a state dict (name -> tensor), got {type(obj)}")

    buffers: dict[str, np.ndarray] = {}
    for key in keys:
        ref = unpickler.storages.get(str(key))
        if ref is None:
            raise WeightsError(f"{path}: storage {key!r} is listed but no tensor uses it")
        head = f.read(8)
        if len(head) != 8:
            raise WeightsError(f"{path}: truncated before storage {key!r}")
        numel = int(np.frombuffer(head, "<i8")[0])
        nbytes = numel * ref.dtype.itemsize
        if numel != ref.numel or numel < 0 or f.tell() + nbytes > len(data):
            raise WeightsError(
                f"{path}: storage {key!r} holds {numel} elements, expected {ref.numel} "
                f"within the file's {len(data)} bytes"
            )
        buffers[ref.key] = np.frombuffer(data, ref.dtype, numel, f.tell())
        f.seek(nbytes, io.SEEK_CUR)

    out: dict[str, np.ndarray] = {}
    for name, t in obj.items():
        if not isinstance(t, _TensorRef):
            raise WeightsError(f"{path}: entry {name!r} is not a tensor ({type(t).__name__})")
        buf = buffers.get(t.storage.key)
        if buf is None:
            raise WeightsError(f"{path}: entry {name!r} points to a missing storage")
        out[str(name)] = _view(buf, t, f"{path}: entry {name!r}")
    return out


def _view(buf: np.ndarray, t: _TensorRef, where: str) -> np.ndarray:
    """Copy the (size, stride, offset) view of ``buf`` that a tensor describes."""
    if len(t.size) != len(t.stride) or min(t.size, default=1) < 0 or t.offset < 0:
        raise WeightsError(f"{where}: bad shape {t.size} / stride {t.stride}")
    if 0 in t.size:
        return np.zeros(t.size, buf.dtype)
    last = t.offset + sum((n - 1) * s for n, s in zip(t.size, t.stride, strict=True))
    if min(t.stride, default=0) < 0 or last >= buf.size:
        raise WeightsError(f"{where}: view {t.size}/{t.stride}+{t.offset} outside its storage")
    item = buf.itemsize
    view = np.lib.stride_tricks.as_strided(
        buf[t.offset :], shape=t.size, strides=[s * item for s in t.stride], writeable=False
    )
    return np.array(view)  # own, writeable, contiguous copy
