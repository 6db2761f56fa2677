"""The models-from-code script of metaview's served model: MLflow runs this file to build it.

Logged by :func:`train.inference.pyfunc.log_pyfunc`; never imported by metaview itself (it
calls ``set_model``, which is what MLflow's loader looks for).
"""

from mlflow.models import set_model

from train.inference.pyfunc import make_model

set_model(make_model())
