"""A model's labels and metaimage.json, checked as it loads (train.inference.metadata)."""

from __future__ import annotations

import pytest
from _toy_fixtures import CLASSES, metaimage_dict

from train.errors import TrainError


def test_metaimage_of_a_run_is_checked_as_metaimage_info():
    from train.inference.metadata import check_metadata

    bad = metaimage_dict()
    bad["image_size"] = [17, 16]
    with pytest.raises(TrainError, match=r"run x: metaimage.json: image_size \[17, 16\] disagrees"):
        check_metadata(list(CLASSES), bad, "run x")
    del bad["config"]
    with pytest.raises(TrainError, match=r"expected keys .*missing \['config'\]"):
        check_metadata(list(CLASSES), bad, "run x")
