"""metaimage.io: PNGs, manifests and CSV files of a dataset, written atomically."""

from __future__ import annotations

import numpy as np
import pytest

from metaimage import DatasetError, read_manifest, read_png, write_manifest, write_png
from metaimage.io import MANIFEST_COLUMNS, encode_png


def test_png_round_trip_is_exact_and_deterministic(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    write_png(tmp_path / "a.png", image)
    np.testing.assert_array_equal(read_png(tmp_path / "a.png"), image)
    assert encode_png(image) == (tmp_path / "a.png").read_bytes()
    with pytest.raises(DatasetError, match="no such image"):
        read_png(tmp_path / "missing.png")
    (tmp_path / "bad.png").write_bytes(b"nope")
    with pytest.raises(DatasetError, match="bad.png"):
        read_png(tmp_path / "bad.png")


def test_manifest_round_trip_typed_and_sorted(tmp_path):
    rows = [
        {
            "path": "b/1_v0.png",
            "label": "b",
            "source": "b/1.stl",
            "part_id": "b/1",
            "variant": 0,
            "faces_in": 10,
            "faces_out": 8,
            "render_s": 0.5,
            "config_hash": "ab",
            "png_bytes": 1234,
            "sha256": "e3" * 32,
        },
        {
            "path": "1_v1.png",
            "label": "",
            "source": "1.stl",
            "part_id": "1",
            "variant": 1,
            "faces_in": 12,
            "faces_out": 12,
            "render_s": 0.25,
            "config_hash": "ab",
            "png_bytes": 99,
            "sha256": "0f" * 32,
        },
    ]
    write_manifest(tmp_path, rows)
    back = read_manifest(tmp_path)
    assert [r["path"] for r in back] == ["1_v1.png", "b/1_v0.png"]
    assert back[0] == rows[1] and set(back[0]) == set(MANIFEST_COLUMNS)
    assert back[1] == rows[0]


def test_manifest_without_png_bytes_and_sha256_is_still_read(tmp_path):
    """Manifests written before the integrity columns existed: read, values unknown."""
    old = MANIFEST_COLUMNS[: MANIFEST_COLUMNS.index("png_bytes")]
    (tmp_path / "manifest.csv").write_text(
        ",".join(old) + "\n" + "a/1_v0.png,a,a/1.stl,a/1,0,10,8,0.5,ab\n", encoding="utf-8"
    )
    (row,) = read_manifest(tmp_path)
    assert (row["png_bytes"], row["sha256"], row["faces_out"]) == (None, "", 8)
    # Written back (by a row without them), the columns are there and empty.
    write_manifest(tmp_path, [{k: v for k, v in row.items() if k in old}])
    header, line = (tmp_path / "manifest.csv").read_text().splitlines()
    assert header.split(",") == list(MANIFEST_COLUMNS) and line.endswith(",ab,,")
    assert read_manifest(tmp_path) == [row]


def test_non_utf8_names_are_written_escaped_not_fatal(tmp_path):
    """A file name with non-UTF-8 bytes (a surrogate escape in Python) must not stop a CSV."""
    import os

    from metaimage.io import printable, read_csv, write_csv

    name = os.fsdecode(b"x_plus/caf\xe9.stl")  # 'x_plus/caf\udce9.stl'
    assert printable(name) == "x_plus/caf\\xe9.stl"
    assert printable("x_plus/café.stl") == "x_plus/café.stl"  # valid UTF-8 is kept
    assert printable("lone \ud800") == "lone \\ud800"
    write_csv(tmp_path / "e.csv", ["source", "error"], [{"source": name, "error": f"{name}: bad"}])
    (row,) = read_csv(tmp_path / "e.csv")
    assert row == {"source": "x_plus/caf\\xe9.stl", "error": "x_plus/caf\\xe9.stl: bad"}
    (tmp_path / "e.csv").read_bytes().decode("utf-8")  # valid UTF-8 throughout


def test_atomic_writes_leave_no_temporary_files_and_normal_permissions(tmp_path):
    import os

    write_png(tmp_path / "x" / "a.png", np.zeros((4, 4, 3), np.uint8))
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["a.png"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert (tmp_path / "x" / "a.png").stat().st_mode & 0o777 == 0o666 & ~umask


def test_metaimage_imports_nothing_heavy():
    import subprocess
    import sys

    script = (
        "import sys, metaimage, metaimage.meta, metaimage.io; "
        "heavy = ('PIL', 'trimesh', 'manifold3d', 'OpenGL', 'pyrender', 'tensorflow', "
        "'keras', 'mlflow', 'render', 'train', 'assets'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
