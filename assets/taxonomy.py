"""Every feature kind ``metaview synth`` can cut, and where each stands in the standard taxonomy.

Three groups of kinds:

- :data:`assets.features.KINDS` and :data:`assets.features.THROUGH_KINDS`: the kinds of the
  first generator (``--kinds`` and ``--through``), kept byte-stable for existing seeds;
- :data:`TAXONOMY_KINDS`: the kinds added to cover the machining-feature taxonomy of
  FeatureNet (24 classes) plus countersinks and fillets (:mod:`assets.kinds_closed`: holes,
  pockets and passages; :mod:`assets.kinds_open`: slots, steps and edge features).

:data:`FEATURENET` maps each FeatureNet class to the kind that cuts it here.
"""

from __future__ import annotations

from assets import features, kinds_closed, kinds_open
from assets.features import Sampler

#: The kinds added for the taxonomy, by name, with their samplers.
TAXONOMY_KINDS: dict[str, Sampler] = {**kinds_closed.KINDS, **kinds_open.KINDS}
#: Every kind, by name: the first generator's, then the taxonomy's.
ALL_KINDS: dict[str, Sampler] = {**features.KINDS, **features.THROUGH_KINDS, **TAXONOMY_KINDS}
#: The kinds that go right through the stock (open to the opposite face too).
THROUGH: frozenset[str] = (
    frozenset(features.THROUGH_KINDS) | kinds_closed.THROUGH | kinds_open.THROUGH
)
