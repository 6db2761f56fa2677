"""Meta-images: tile views into a grid, shuffle tiles, read and write dataset files.

Pure numpy, no heavy imports: this package imports in milliseconds.
"""

from metaimage.errors import DatasetError
from metaimage.io import (
    MANIFEST_COLUMNS,
    read_json,
    read_manifest,
    read_metaimage_json,
    read_png,
    read_test_parts,
    write_json,
    write_manifest,
    write_png,
)

__all__ = [
    "MANIFEST_COLUMNS",
    "DatasetError",
    "read_json",
    "read_manifest",
    "read_metaimage_json",
    "read_png",
    "read_test_parts",
    "write_json",
    "write_manifest",
    "write_png",
]
