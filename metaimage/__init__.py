"""Meta-images: tile views into a grid, shuffle tiles, read and write dataset files.

Pure numpy, no heavy imports: this package imports in milliseconds.
"""

from metaimage.errors import DatasetError
from metaimage.grid import permute_tiles, shuffle_tiles, tile_grid, untile
from metaimage.io import (
    MANIFEST_COLUMNS,
    printable,
    read_json,
    read_manifest,
    read_metaimage_info,
    read_metaimage_json,
    read_png,
    read_test_parts,
    write_errors,
    write_json,
    write_manifest,
    write_metaimage_info,
    write_png,
)
from metaimage.meta import MetaImageInfo

__all__ = [
    "MANIFEST_COLUMNS",
    "DatasetError",
    "MetaImageInfo",
    "permute_tiles",
    "printable",
    "read_json",
    "read_manifest",
    "read_metaimage_info",
    "read_metaimage_json",
    "read_png",
    "read_test_parts",
    "shuffle_tiles",
    "tile_grid",
    "untile",
    "write_json",
    "write_manifest",
    "write_metaimage_info",
    "write_png",
    "write_errors",
]
