"""The render stage's configuration: one frozen dataclass, saved beside every dataset."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from base.options import option
from geometry.mesh import STEP_TOL
from render.errors import RenderError
from render.views import FRAMINGS

NORMAL_MODES = ("object", "camera")
STOCK_COLOURS = ("normal", "grey")
BACKENDS = ("auto", "egl", "osmesa")

# Fields that do not change the pixels of a given (part, variant) meta-image, and so
# stay out of the config hash: the backend (EGL and OSMesa give the same pixels on
# Mesa, because multisampling is off on both) and how many variants are rendered
# (variant k is the same image whether 1 or 5 variants are asked for).
_UNHASHED = ("backend", "variants")
# Bumped whenever a code change alters the pixels for the same config, so that a
# resumed batch re-renders what an older version drew.
RENDER_VERSION = 1


@dataclass(frozen=True)
class RenderConfig:
    """How meshes become meta-images. Every field has a default.

    The meta-image is ``rows * tile`` pixels high and ``cols * tile`` wide. Each
    field's help text is in its metadata: ``metaview render`` makes its options
    from it (rows and cols as one ``--grid ROWSxCOLS``).

    The defaults (a 5x5 grid of 192 px views, 3 variants a part) are what classified
    held-out synthetic parts best for the cost (docs/accuracy.md, "Choosing the representation"):
    pixels per view decide, more than the number of views; at the same 960x960 pixels a
    10x10 grid of 96 px views scored 0.93/0.90 (default/hard set) against 0.96/0.95, and
    averaging a part's variants at test time adds about 2 points.
    """

    tile: int = field(default=192, metadata=option("tile size in pixels (square)"))
    rows: int = field(
        default=5,
        metadata=option("grid rows: one elevation per row, from near-top (+Z) to near-bottom"),
    )
    cols: int = field(
        default=5,
        metadata=option("grid columns: one azimuth per column, 0 deg first, counter-clockwise"),
    )
    normals: str = field(
        default="object",
        metadata=option(
            "colour by the part-frame normal ('object') or the view-frame normal ('camera')",
            choices=NORMAL_MODES,
        ),
    )
    framing: str = field(
        default="sphere",
        metadata=option(
            "'view': fit each view's projection of the part to its tile (more pixels on the "
            "part); 'sphere': one scale for all views, the part's bounding sphere filling a tile",
            choices=FRAMINGS,
        ),
    )
    straighten: bool = field(
        default=True,
        metadata=option(
            "turn a slightly tilted part (a fixture not square, a rotated export) so its "
            "largest flat faces lie on the axes before drawing (turns of at most 15 deg)",
        ),
    )
    stock: str = field(
        default="normal",
        metadata=option(
            "colour of the stock faces (those on the part's bounding box, as the normals "
            "family and metaview reach split them): 'normal' like every face, 'grey' flat "
            "grey, so that only the cut faces carry their normal's colour",
            choices=STOCK_COLOURS,
        ),
    )
    step_tol: float = field(
        default=STEP_TOL,
        metadata=option(
            "STEP files: how far the tessellation may stray from the exact surface, in the "
            "file's length unit (mm for most CAD); smaller is finer and slower",
            metavar="D",
        ),
    )
    margin: float = field(
        default=0.05,
        metadata=option("free border on each side of a tile, as a fraction of half a tile"),
    )
    max_faces: int | None = field(
        default=None,
        metadata=option(
            "simplify meshes to about N faces before drawing (see face_budget)",
            metavar="N",
            default_help="tile*tile/2",
        ),
    )
    backend: str = field(
        default="auto",
        metadata=option("headless OpenGL: 'auto' tries EGL, then OSMesa", choices=BACKENDS),
    )
    variants: int = field(
        default=3,
        metadata=option(
            "meta-images per part: variant 0 is the canonical grid, the others turn the part "
            "by a seeded random rotation",
            metavar="K",
        ),
    )
    seed: int = field(
        default=0,
        metadata=option("seed of the variant rotations (with the part id and variant index)"),
    )

    def __post_init__(self) -> None:
        def fail(field: str, why: str) -> None:
            raise RenderError(f"RenderConfig.{field}: {why}, got {getattr(self, field)!r}")

        for name in ("tile", "rows", "cols", "variants"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                fail(name, "expected a positive integer")
        if self.tile < 4 or self.tile > 1024:
            fail("tile", "expected 4..1024 pixels")
        if self.rows * self.tile > 16384 or self.cols * self.tile > 16384:
            fail(
                "tile", f"the meta-image ({self.rows}x{self.cols} tiles) must stay within 16384 px"
            )
        if self.normals not in NORMAL_MODES:
            fail("normals", f"expected one of {NORMAL_MODES}")
        if self.framing not in FRAMINGS:
            fail("framing", f"expected one of {FRAMINGS}")
        if self.backend not in BACKENDS:
            fail("backend", f"expected one of {BACKENDS}")
        if self.stock not in STOCK_COLOURS:
            fail("stock", f"expected one of {STOCK_COLOURS}")
        if (
            isinstance(self.step_tol, bool)
            or not isinstance(self.step_tol, (int, float))
            or not 0.0 < float(self.step_tol) <= 10.0
        ):
            fail("step_tol", "expected a number above 0 and at most 10")
        if not isinstance(self.straighten, bool):
            fail("straighten", "expected true or false")
        if isinstance(self.margin, bool) or not isinstance(self.margin, (int, float)):
            fail("margin", "expected a number in [0, 0.5]")
        if not 0.0 <= float(self.margin) <= 0.5:
            fail("margin", "expected a number in [0, 0.5]")
        if self.max_faces is not None and (
            isinstance(self.max_faces, bool)
            or not isinstance(self.max_faces, int)
            or self.max_faces < 4
        ):
            fail("max_faces", "expected None (auto) or an integer >= 4")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            fail("seed", "expected a non-negative integer")

    @property
    def image_size(self) -> tuple[int, int]:
        """``(height, width)`` of a meta-image in pixels."""
        return self.rows * self.tile, self.cols * self.tile

    @property
    def face_budget(self) -> int:
        """Faces a mesh is simplified to before drawing: ``max_faces``, or ``tile**2 // 2``.

        A tile of ``t`` pixels shows a part within a disc of about ``0.7 t**2`` pixels, and
        only the half of the surface that faces the camera, so ``t**2 / 2`` faces (2,048 at
        64 px) leaves about one visible face per 1-2 covered pixels. Rendering time grows
        with the face count; docs/render.md shows what each cap costs and changes.
        """
        if self.max_faces is not None:
            return self.max_faces
        return max(self.tile * self.tile // 2, 256)

    def to_dict(self) -> dict[str, Any]:
        """All fields as a JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RenderConfig:
        """Build a config from :meth:`to_dict` output; unknown keys are an error.

        A config saved before a field existed means that field's old behaviour: no
        ``straighten`` key means the part was drawn as loaded (a model trained on such
        meta-images must predict on the same).
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise RenderError(
                f"RenderConfig: unknown fields {unknown}; expected some of {sorted(names)}"
            )
        return cls(**{"straighten": False, **d})

    def config_hash(self) -> str:
        """A 16-hex-digit hash of every field that changes a meta-image's pixels.

        ``backend`` and ``variants`` are left out (see ``_UNHASHED``); a dataset
        re-rendered with another of them keeps its images.
        """
        d = {k: v for k, v in self.to_dict().items() if k not in _UNHASHED}
        if d["stock"] == "normal":  # as before the field existed: the same hash, no re-render
            del d["stock"]
        if d["step_tol"] == STEP_TOL:  # likewise (it changes nothing but STEP files)
            del d["step_tol"]
        d["render_version"] = RENDER_VERSION
        text = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
