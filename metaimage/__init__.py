"""Meta-images: tile views into a grid, shuffle tiles, read and write dataset files.

Pure numpy, no heavy imports: this package imports in milliseconds.
"""

from metaimage.errors import DatasetError
from metaimage.grid import permute_tiles, shuffle_tiles, tile_grid, untile
from metaimage.io import (
    MANIFEST_COLUMNS,
    read_json,
    read_manifest,
    read_metaimage_json,
    read_png,
    read_test_parts,
    write_errors,
    write_json,
    write_manifest,
    write_png,
)

__all__ = [
    "MANIFEST_COLUMNS",
    "DatasetError",
    "permute_tiles",
    "read_json",
    "read_manifest",
    "read_metaimage_json",
    "read_png",
    "read_test_parts",
    "shuffle_tiles",
    "tile_grid",
    "untile",
    "write_json",
    "write_manifest",
    "write_png",
    "write_errors",
]
