"""Samplers of the taxonomy's closed kinds (stub: filled in by the taxonomy work)."""

from __future__ import annotations

from assets.features import Sampler

#: The kinds of this module, by name, with their samplers.
KINDS: dict[str, Sampler] = {}
#: Those of KINDS that go right through the stock.
THROUGH: frozenset[str] = frozenset()
