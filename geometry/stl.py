"""STL, binary and ASCII: the one codec the loader (:mod:`render.mesh`) and the part
generator (:mod:`assets.part`) share.

A binary STL is an 80-byte header of free text, a little-endian uint32 triangle count
``n`` and ``n`` 50-byte records (:data:`RECORD_DTYPE`): a normal, three vertices (all
float32) and a uint16 attribute. Plain numpy: nothing here imports trimesh or OpenGL.
"""

from __future__ import annotations

import logging

import numpy as np

from geometry.errors import MeshError

logger = logging.getLogger(__name__)

HEADER_BYTES = 80  # free text at the start of a binary STL
COUNT_BYTES = 4  # uint32 triangle count after the header
#: One triangle of a binary STL: normal (3 f4) + 3 vertices (9 f4) + attribute (u2) = 50 bytes.
RECORD_DTYPE = np.dtype([("normal", "<f4", (3,)), ("vertices", "<f4", (3, 3)), ("attr", "<u2")])
_DATA_START = HEADER_BYTES + COUNT_BYTES


def encode_stl(vertices: np.ndarray, faces: np.ndarray, header: bytes = b"") -> bytes:
    """Encode a triangle mesh as binary STL.

    Parameters
    ----------
    vertices : (v, 3) float
        Positions; stored as float32.
    faces : (f, 3) int
        Vertex indices of each triangle, counter-clockwise seen from outside.
    header : bytes
        At most 80 bytes, padded with spaces. Put no date in it: the same mesh then
        always gives the same bytes.

    Returns
    -------
    bytes
        ``84 + 50 * f`` bytes. Each record's normal is the unit normal of the float32
        triangle from its winding (zero for a zero-area triangle); the attribute is 0.

    Raises
    ------
    MeshError
        If the header is longer than 80 bytes.
    """
    if len(header) > HEADER_BYTES:
        raise MeshError(
            f"binary STL header: expected at most {HEADER_BYTES} bytes, found {len(header)}"
        )
    tri = np.asarray(vertices).astype(np.float32)[np.asarray(faces)]
    # The cross product of the float32 corners, normalised in float64: the bytes of the
    # bundled parts depend on this order of operations.
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]).astype(np.float64)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    normals = np.divide(normals, length, out=np.zeros_like(normals), where=length > 0)
    records = np.zeros(len(tri), dtype=RECORD_DTYPE)
    records["normal"] = normals
    records["vertices"] = tri
    count = np.uint32(len(tri)).astype("<u4").tobytes()
    return header.ljust(HEADER_BYTES, b" ") + count + records.tobytes()


def parse_stl(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse binary or ASCII STL bytes, checking sizes before allocating.

    A binary STL's length must be exactly ``84 + 50 n`` for the ``n`` triangles its
    header claims: the count is checked against the file length before anything is
    allocated, and a header that claims more triangles than the file holds is reported
    instead of trusted. Stored normals are not returned: they come from the winding.

    Parameters
    ----------
    data : bytes
        The whole file.
    name : str
        The file, for messages.

    Returns
    -------
    vertices : (3 f, 3) float64
        Every triangle's corners, unshared.
    faces : (f, 3) int64
        ``arange(3 f).reshape(f, 3)``.

    Raises
    ------
    MeshError
        Naming ``name``: shorter than 84 bytes, truncated, or a malformed ASCII STL.
    """
    n_bytes = len(data)
    head = data[:1024].lstrip().lower()
    if n_bytes >= _DATA_START:
        count = int(np.frombuffer(data, dtype="<u4", count=1, offset=HEADER_BYTES)[0])
        expected = _DATA_START + RECORD_DTYPE.itemsize * count
        if expected == n_bytes:
            return _binary_triangles(data, count)
    else:
        count, expected = None, None
    # Binary STL headers often start with "solid" too, so ASCII needs "facet" as well.
    if head.startswith(b"solid") and b"facet" in data[:4096].lower():
        return _parse_ascii_stl(data, name)
    if count is None:
        raise MeshError(
            f"{name}: truncated binary STL: expected at least 84 bytes (80-byte header + "
            f"4-byte triangle count), found {n_bytes} bytes"
        )
    if expected > n_bytes:
        raise MeshError(
            f"{name}: truncated or not a binary STL: its header claims {count} triangles "
            f"({expected} bytes), the file has {n_bytes} bytes"
        )
    # Longer than the header says: some exporters pad the end. Read what is claimed.
    logger.warning(
        "%s: binary STL has %d bytes after its %d triangles; ignoring them",
        name,
        n_bytes - expected,
        count,
    )
    return _binary_triangles(data, count)


def _binary_triangles(data: bytes, count: int) -> tuple[np.ndarray, np.ndarray]:
    records = np.frombuffer(data, dtype=RECORD_DTYPE, count=count, offset=_DATA_START)
    vertices = records["vertices"].reshape(-1, 3).astype(np.float64)
    return vertices, np.arange(len(vertices), dtype=np.int64).reshape(-1, 3)


def _parse_ascii_stl(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse ASCII STL: every ``vertex x y z`` line, three per facet."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise MeshError(f"{name}: expected an ASCII STL (text), found non-ASCII bytes") from None
    coords: list[str] = []
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0].lower() == "vertex":
            if len(parts) != 4:
                raise MeshError(
                    f"{name}: expected 'vertex x y z' in ASCII STL, found {line.strip()!r}"
                )
            coords.extend(parts[1:])
    try:
        vertices = np.array(coords, dtype=np.float64).reshape(-1, 3)
    except ValueError:
        raise MeshError(f"{name}: ASCII STL has vertex coordinates that are not numbers") from None
    if len(vertices) % 3:
        raise MeshError(
            f"{name}: ASCII STL expected 3 vertices per facet, found {len(vertices)} vertices"
        )
    return vertices, np.arange(len(vertices), dtype=np.int64).reshape(-1, 3)
