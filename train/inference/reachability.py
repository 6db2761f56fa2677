"""The reachable set of each predicted mesh, recorded next to the model's answer.

Every mesh predicted is also analysed geometrically (:func:`geometry.reach.reach_file`, a
few ms a part): its *reachable set*, the directions that reach every feature face, is
recorded on its :class:`~train.inference.prediction.Prediction`, and
:attr:`Prediction.agrees` says whether the top class is among them. The analysis only
informs: when it fails, the prediction stands and ``reach_error`` says why.
"""

from __future__ import annotations

import logging

from base.errors import MetaviewError
from train.inference.prediction import Prediction

log = logging.getLogger(__name__)


def add_reach(pred: Prediction) -> None:
    """Record the mesh's reachable set on ``pred``, or why it could not be found."""
    from geometry.reach import reach_file

    try:
        result = reach_file(pred.file)
    except MetaviewError as exc:  # ReachError, MeshError: they name the file
        pred.reach_error = str(exc)
    except Exception as exc:  # one broken file never stops a batch (as assets.reach does)
        log.debug("reach analysis of %s failed", pred.file, exc_info=True)
        pred.reach_error = f"{pred.file}: {type(exc).__name__}: {exc}"
    else:
        pred.reachable = tuple(result.valid)
        pred.reach_reasons = dict(result.reasons())
