"""``metaimage.json``: what a rendered dataset holds, as one frozen, checked dataclass.

``metaview render`` writes it beside the meta-images; training reads it to know the grid
and tile size, and copies it beside every model so prediction renders new parts the same
way. Every writer and reader goes through :class:`MetaImageInfo`, so the keys, their
types and their consistency are checked in one place.

Plain Python: nothing here imports numpy, PIL or the render stage. The ``config`` entry
is the render stage's ``RenderConfig.to_dict()``; it is kept as an opaque mapping here,
checked only where it restates the grid and tile.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from metaimage.errors import DatasetError

FORMAT = 1  # bumped when a change would mislead an older reader

#: How tile (i, j) relates to the viewing direction; written into every metaimage.json.
VIEW_CONVENTION = (
    "tile (i, j), row-major from the top left, shows the part from elevation "
    "90 - (i + 0.5) * 180 / rows deg and azimuth j * 360 / cols deg, +Z up"
)

_REQUIRED = ("grid", "tile", "image_size", "normals", "config", "config_hash")


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class MetaImageInfo:
    """The content of a dataset's ``metaimage.json``. Build it with :meth:`from_dict`
    (checks everything) or directly; write it with :meth:`to_dict`.

    The mappings are read-only views, so an instance cannot change after it is made.
    """

    grid: tuple[int, int]  # (rows, cols) of tiles; rows step the elevation, cols the azimuth
    tile: int  # tile size in pixels (square)
    normals: str  # "object" (part-frame normal colours) or "camera" (view-frame)
    config: Mapping[str, Any]  # the resolved render config (RenderConfig.to_dict())
    config_hash: str  # hash of what changes pixels; every manifest row carries it
    backend: str = ""  # GL platform that drew the images ("egl", "osmesa")
    gl_renderer: str = ""  # the GL_RENDERER string ("llvmpipe (LLVM 15.0.6, 256 bits)")
    versions: Mapping[str, str] = field(
        default_factory=_empty
    )  # library versions that drew the images
    variants: int = 1  # meta-images per part
    seed: int = 0  # seed of the variant rotations
    view_convention: str = VIEW_CONVENTION  # tile (i, j) -> viewing direction, in words
    source_dir: str = ""  # the folder of meshes rendered (absolute); manifest sources are under it
    format: int = FORMAT  # version of this file's layout
    # Keys a newer writer added: kept and written back unchanged.
    extra: Mapping[str, Any] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        # Freeze the mappings too (a frozen dataclass only freezes its attributes).
        for name in ("config", "versions", "extra"):
            value = getattr(self, name)
            if isinstance(value, Mapping) and not isinstance(value, MappingProxyType):
                object.__setattr__(self, name, MappingProxyType(dict(value)))
        if isinstance(self.grid, list):
            object.__setattr__(self, "grid", tuple(self.grid))
        problem = _problem({f.name: getattr(self, f.name) for f in dataclasses.fields(self)})
        if problem:
            raise DatasetError(f"metaimage.json: {problem}")

    @property
    def image_size(self) -> tuple[int, int]:
        """``(height, width)`` of every meta-image in pixels: ``grid * tile``."""
        return self.grid[0] * self.tile, self.grid[1] * self.tile

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "metaimage.json") -> MetaImageInfo:
        """Build and check an instance from a parsed ``metaimage.json``.

        Parameters
        ----------
        d : mapping
            The JSON object. ``grid``, ``tile``, ``image_size``, ``normals``, ``config``
            and ``config_hash`` are required; the other fields have defaults (a file
            without ``format`` is format 1). Unknown keys go to :attr:`extra`.
        where : str
            The file, for messages.

        Raises
        ------
        DatasetError
            Naming ``where``: a required key is missing, a value has the wrong type,
            ``image_size`` is not ``grid * tile``, or ``config`` contradicts them.
        """
        if not isinstance(d, Mapping):
            raise DatasetError(f"{where}: expected a JSON object, found {type(d).__name__}")
        missing = [k for k in _REQUIRED if k not in d]
        if missing:
            raise DatasetError(f"{where}: expected keys {list(_REQUIRED)}, missing {missing}")
        fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "extra"}
        values = {
            name: f.default_factory() if f.default is dataclasses.MISSING else f.default
            for name, f in fields.items()
            if name in _DEFAULTED
        }
        values.update({k: v for k, v in d.items() if k in fields})
        problem = _problem(values)
        if problem:
            raise DatasetError(f"{where}: {problem}")
        rows, cols = values["grid"]
        expected = [rows * values["tile"], cols * values["tile"]]
        size = d["image_size"]
        if not (isinstance(size, list | tuple) and list(size) == expected):
            raise DatasetError(
                f"{where}: image_size {_show(size)} disagrees with grid {[rows, cols]} x tile "
                f"{values['tile']} (expected {expected})"
            )
        extra = {k: v for k, v in d.items() if k not in fields and k != "image_size"}
        return cls(**values, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object to write: every field, plus ``image_size``, plus :attr:`extra`."""
        out: dict[str, Any] = dict(self.extra)
        out.update(
            {
                "format": self.format,
                "grid": list(self.grid),
                "tile": self.tile,
                "image_size": list(self.image_size),
                "normals": self.normals,
                "backend": self.backend,
                "gl_renderer": self.gl_renderer,
                "config": dict(self.config),
                "config_hash": self.config_hash,
                "versions": dict(self.versions),
                "variants": self.variants,
                "seed": self.seed,
                "view_convention": self.view_convention,
                "source_dir": self.source_dir,
            }
        )
        return out


# Fields with a default: filled in before checking a dict that lacks them.
_DEFAULTED = (
    "backend",
    "gl_renderer",
    "versions",
    "variants",
    "seed",
    "view_convention",
    "source_dir",
    "format",
)


def _show(value: Any) -> str:
    """A value as its JSON reads, for messages: tuples as lists, read-only maps as dicts."""
    if isinstance(value, tuple):
        value = list(value)
    elif isinstance(value, MappingProxyType):
        value = dict(value)
    return repr(value)


def _problem(v: Mapping[str, Any]) -> str | None:
    """What is wrong with the field values ``v`` of a :class:`MetaImageInfo`, or None."""

    def bad(key: str, expected: str, hint: str = "") -> str:
        return f"{key}: expected {expected}, found {_show(v[key])}{hint}"

    grid = v["grid"]
    if not (
        isinstance(grid, list | tuple)
        and len(grid) == 2
        and all(_is_int(x) and x > 0 for x in grid)
    ):
        return bad("grid", "[rows, cols] of positive integers")
    if not (_is_int(v["tile"]) and v["tile"] > 0):
        return bad("tile", "a positive integer")
    if not (isinstance(v["normals"], str) and v["normals"]):
        return bad("normals", "a non-empty string such as 'object'")
    if not isinstance(v["config"], Mapping):
        return bad("config", "a JSON object (the render config)")
    if not (isinstance(v["config_hash"], str) and v["config_hash"]):
        return bad("config_hash", "a non-empty string")
    for key in ("backend", "gl_renderer", "view_convention", "source_dir"):
        if not isinstance(v[key], str):
            return bad(key, "a string")
    versions = v["versions"]
    if not (
        isinstance(versions, Mapping)
        and all(isinstance(a, str) and isinstance(b, str) for a, b in versions.items())
    ):
        return bad("versions", "a JSON object of package name -> version string")
    if not (_is_int(v["variants"]) and v["variants"] > 0):
        return bad("variants", "a positive integer")
    if not (_is_int(v["seed"]) and v["seed"] >= 0):
        return bad("seed", "a non-negative integer")
    if v["format"] != FORMAT:
        return bad("format", str(FORMAT), " (written by a newer metaview? upgrade to read it)")
    # The render config restates the grid and the tile: a hand-edited file may not agree.
    config = v["config"]
    if "tile" in config and config["tile"] != v["tile"]:
        return f"config.tile is {config['tile']!r} but tile is {v['tile']}"
    for i, key in enumerate(("rows", "cols")):
        if key in config and config[key] != grid[i]:
            return f"config.{key} is {config[key]!r} but grid is {_show(grid)}"
    return None
