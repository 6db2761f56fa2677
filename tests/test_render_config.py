"""render.config: RenderConfig validated field by field, round-tripped and hashed."""

from __future__ import annotations

import pytest

from render import RenderConfig, RenderError


def test_config_rejects_bad_values_naming_the_field():
    for field, value in [
        ("tile", 0),
        ("rows", -1),
        ("normals", "world"),
        ("backend", "glx"),
        ("margin", 0.9),
        ("max_faces", 2),
        ("seed", -1),
        ("variants", 0),
    ]:
        with pytest.raises(RenderError, match=f"RenderConfig.{field}"):
            RenderConfig(**{field: value})
    with pytest.raises(RenderError, match="unknown fields"):
        RenderConfig.from_dict({"tile": 8, "colour": "red"})


def test_config_round_trip_and_hash():
    cfg = RenderConfig(tile=32, rows=3, cols=5, variants=2, seed=7)
    assert RenderConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.image_size == (96, 160)
    h = cfg.config_hash()
    assert len(h) == 16 and int(h, 16) >= 0
    # Backend and variant count do not change pixels; tile and seed do.
    assert RenderConfig(tile=32, rows=3, cols=5, backend="osmesa", seed=7).config_hash() == h
    assert RenderConfig(tile=16, rows=3, cols=5, variants=2, seed=7).config_hash() != h
    assert RenderConfig(tile=32, rows=3, cols=5, variants=2, seed=8).config_hash() != h
    assert RenderConfig(tile=64).face_budget == 2048


def test_straighten_is_a_validated_hashed_field():
    with pytest.raises(RenderError, match="straighten"):
        RenderConfig(straighten="yes")
    assert RenderConfig().straighten is True
    assert RenderConfig().config_hash() != RenderConfig(straighten=False).config_hash()
    # A config saved before the field existed drew parts as loaded, and still does.
    old = {k: v for k, v in RenderConfig().to_dict().items() if k != "straighten"}
    assert RenderConfig.from_dict(old).straighten is False
    assert RenderConfig.from_dict(RenderConfig().to_dict()) == RenderConfig()


def test_stock_is_a_validated_field_hashed_only_when_set():
    """A config without the field hashes as before it existed: datasets keep their images."""
    assert RenderConfig().stock == "normal"
    assert (
        RenderConfig.from_dict({k: v for k, v in RenderConfig().to_dict().items() if k != "stock"})
        == RenderConfig()
    )
    assert RenderConfig(stock="grey").config_hash() != RenderConfig().config_hash()
    import hashlib
    import json

    from render.config import _UNHASHED, RENDER_VERSION

    later = ("stock", "step_tol")  # fields added after datasets were rendered
    old = {
        k: v for k, v in RenderConfig().to_dict().items() if k not in _UNHASHED and k not in later
    }
    old["render_version"] = RENDER_VERSION
    text = json.dumps(old, sort_keys=True, separators=(",", ":"))
    assert RenderConfig().config_hash() == hashlib.sha256(text.encode()).hexdigest()[:16]
    with pytest.raises(RenderError, match="stock"):
        RenderConfig(stock="blue")
