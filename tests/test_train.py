"""The train package as a whole: importing it, its CLI modules and its facades stays cheap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_importing_train_and_its_cli_modules_stays_light():
    """TensorFlow, Keras, MLflow and matplotlib load only inside the functions that need them."""
    code = (
        "import sys, train, train.cli, train.cli_model, train.config, train.errors, train.models,"
        " train.tracking, train.inference, train.inference.export, train.runs, train.metrics,"
        " train.plots, train.fit;"
        "heavy = [m for m in ('tensorflow', 'keras', 'mlflow', 'matplotlib') if m in sys.modules];"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
