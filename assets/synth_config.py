"""What ``metaview synth`` makes: the classes, the feature kinds and :class:`SynthConfig`.

The classes are the five faces a 3-axis machine reaches with a part clamped on its ``-Z``
face (:data:`CLASSES`); the feature kinds are those of :mod:`assets.features`. A
:class:`SynthConfig` is checked field by field when it is made, so every stage after it (one
part, :mod:`assets.part`; a set, :mod:`assets.synth`) can trust it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from assets import features as feat
from assets import taxonomy
from assets.errors import SynthError
from base.options import names, option
from geometry import directions

#: The labels: faces a 3-axis machine reaches with the part clamped on -Z, in output order.
CLASSES = directions.CLASSES
#: Feature kinds, in the order ``--kinds`` lists them.
FEATURE_KINDS = tuple(feat.KINDS)
#: Kinds cut through the whole stock: ``--through`` draws the label features from these.
THROUGH_KINDS = tuple(feat.THROUGH_KINDS)
#: Every kind ``--kinds`` accepts: the first generator's, its through kinds and the taxonomy's.
ALL_KINDS = tuple(taxonomy.ALL_KINDS)
#: Stock shapes (``--stock``): a box with every side drawn from [min_side, max_side]; a plate
#: (one side 10-30 % of the smaller other, at least 10 mm); a bar (one side 1.5-3 times the
#: larger other); a stepped block (a box with a wide, deep step cut along one edge of the
#: label face, an L seen end-on).
STOCK_SHAPES = ("box", "plate", "bar", "stepped")

#: Named presets (``metaview synth --preset NAME``): values for the fields left at their
#: defaults. ``taxonomy`` draws from every kind (the machining-feature taxonomy), on every
#: stock shape, and gives a third of the side-labelled parts through features from the
#: opposite face too.
PRESETS: dict[str, dict[str, object]] = {
    "default": {},
    "taxonomy": {"kinds": ALL_KINDS, "stock": STOCK_SHAPES, "second_face": 0.3},
}

MAX_SIDE_LIMIT = 1000.0  # largest stock side accepted (mm)


@dataclass(frozen=True)
class SynthConfig:
    """What ``metaview synth`` makes. Every field is validated; sizes are millimetres."""

    per_class: int = field(default=4, metadata=option("parts per class", metavar="N"))
    classes: tuple[str, ...] = field(
        default=CLASSES,
        metadata=option(
            "comma-separated classes to make", metavar="C1,C2", type=names, default_help="all five"
        ),
    )
    seed: int = field(
        default=0, metadata=option("master seed; each part derives its own", metavar="SEED")
    )
    min_side: float = field(
        default=30.0, metadata=option("smallest stock side in mm", metavar="MM")
    )
    max_side: float = field(
        default=150.0, metadata=option("largest stock side in mm", metavar="MM")
    )
    min_features: int = field(
        default=1,
        metadata=option("fewest features drawn per part; fewer when they do not fit", metavar="N"),
    )
    max_features: int = field(
        default=5,
        metadata=option("most features per part; fewer when they do not fit", metavar="N"),
    )
    kinds: tuple[str, ...] = field(
        default=FEATURE_KINDS,
        metadata=option(
            "comma-separated feature kinds to draw from",
            metavar="K1,K2",
            type=names,
            default_help="all",
        ),
    )
    tilt_deg: float = field(
        default=0.0,
        metadata=option("turn each part by up to DEG degrees about a random axis", metavar="DEG"),
    )
    distractors: int = field(
        default=0,
        metadata=option("add 1..N closed features to the clamped -Z face (0: none)", metavar="N"),
    )
    segments: int = field(
        default=32, metadata=option("line segments per circle of round features", metavar="N")
    )
    stock: tuple[str, ...] = field(
        default=("box",),
        metadata=option(
            "comma-separated stock shapes to draw from: " + ", ".join(STOCK_SHAPES),
            metavar="S1,S2",
            type=names,
            default_help="box",
        ),
    )
    second_face: float = field(
        default=0.0,
        metadata=option(
            "share of side-labelled parts that also get 1-2 through features cut from the "
            "opposite face (features on two faces; the label still reaches them)",
            metavar="P",
        ),
    )
    through: bool = field(
        default=False,
        metadata=option(
            "cut the features right through the stock (through-holes, windows, slots open to "
            "an edge; not with --kinds): the opposite side reaches them too"
        ),
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "kinds", tuple(self.kinds))
        object.__setattr__(self, "stock", tuple(self.stock))
        _check_int("per_class", self.per_class, 1, "the number of parts per class")
        _check_names("classes", self.classes, CLASSES, ("class", "class"))
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise SynthError(f"seed must be a non-negative integer, got {self.seed!r}")
        for name in ("min_side", "max_side"):
            value = getattr(self, name)
            if not _is_number(value) or not 10.0 <= value <= MAX_SIDE_LIMIT:
                raise SynthError(
                    f"{name} must be between 10 and {MAX_SIDE_LIMIT:g} mm, got {value!r}"
                )
        if self.min_side > self.max_side:
            raise SynthError(
                f"min_side ({self.min_side:g} mm) must not exceed max_side ({self.max_side:g} mm)"
            )
        _check_int("min_features", self.min_features, 1, "the fewest features per part")
        _check_int("max_features", self.max_features, 1, "the most features per part")
        if self.min_features > self.max_features:
            raise SynthError(
                f"min_features ({self.min_features}) must not exceed "
                f"max_features ({self.max_features})"
            )
        if self.max_features > 20:
            raise SynthError(f"max_features must be at most 20, got {self.max_features}")
        _check_names("kinds", self.kinds, ALL_KINDS, ("feature kind", "kind"))
        if not _is_number(self.tilt_deg) or not 0.0 <= self.tilt_deg <= 45.0:
            raise SynthError(f"tilt_deg must be between 0 and 45 degrees, got {self.tilt_deg!r}")
        _check_int("distractors", self.distractors, 0, "the most distractors per part")
        if self.distractors > 10:
            raise SynthError(f"distractors must be at most 10, got {self.distractors}")
        _check_int("segments", self.segments, 8, "line segments per circle")
        if self.segments > 256:
            raise SynthError(f"segments must be at most 256, got {self.segments}")
        _check_names("stock", self.stock, STOCK_SHAPES, ("stock shape", "shape"))
        if not _is_number(self.second_face) or not 0.0 <= self.second_face <= 1.0:
            raise SynthError(f"second_face must be between 0 and 1, got {self.second_face!r}")
        if not isinstance(self.through, bool):
            raise SynthError(f"through must be True or False, got {self.through!r}")
        if self.through and self.kinds != FEATURE_KINDS:
            raise SynthError(
                "kinds does not apply with through: through parts draw their features from "
                f"{', '.join(THROUGH_KINDS)}; got kinds {', '.join(self.kinds)}"
            )

    def to_dict(self) -> dict:
        """The configuration as JSON-ready plain data (tuples become lists).

        ``stock`` and ``second_face`` are left out at their defaults (see the comment below).
        """
        d = asdict(self)
        d["classes"] = list(self.classes)
        d["kinds"] = list(self.kinds)
        d["stock"] = list(self.stock)
        # Fields added after the first generator are written only when set, so that a
        # configuration of the first generator writes the synth.json it always wrote.
        for name, default in (("stock", ["box"]), ("second_face", 0.0)):
            if d[name] == default:
                del d[name]
        return d

    @classmethod
    def from_preset(cls, preset: str, **fields: object) -> SynthConfig:
        """The configuration of a preset (:data:`PRESETS`), with ``fields`` set over it.

        Raises
        ------
        SynthError
            If ``preset`` is not one of :data:`PRESETS`, or a field is invalid.
        """
        if preset not in PRESETS:
            raise SynthError(f"unknown preset {preset!r}; expected one of {', '.join(PRESETS)}")
        return cls(**{**PRESETS[preset], **fields})

    @classmethod
    def from_dict(cls, d: dict) -> SynthConfig:
        """Rebuild a configuration written by :meth:`to_dict`; unknown keys are an error."""
        known = {f.name for f in cls.__dataclass_fields__.values()}
        unknown = sorted(set(d) - known)
        if unknown:
            raise SynthError(f"unknown synth configuration keys: {', '.join(unknown)}")
        return cls(**d)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_names(
    name: str, values: tuple[str, ...], allowed: tuple[str, ...], nouns: tuple[str, str]
) -> None:
    """A list option: not empty, every value one of ``allowed``, none twice.

    ``nouns`` names a value in full and briefly: ("feature kind", "kind").
    """
    full, short = nouns
    if not values:
        raise SynthError(f"{name} must name at least one {full}, got none")
    for value in values:
        if value not in allowed:
            raise SynthError(
                f"{name}: unknown {full} {value!r}; expected some of {', '.join(allowed)}"
            )
    if len(set(values)) != len(values):
        raise SynthError(f"{name} lists a {short} twice: {', '.join(values)}")


def _check_int(name: str, value: object, minimum: int, what: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise SynthError(f"{name} ({what}) must be an integer of at least {minimum}, got {value!r}")
