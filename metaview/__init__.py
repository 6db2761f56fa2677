"""metaview: STL workpieces -> normal-map meta-images -> EfficientNet classifier.

The pipeline stages live in their own top-level packages:

- :mod:`assets`    labelled synthetic workpieces (``metaview synth``) and the bundled set;
- :mod:`render`    mesh -> 100 normal-map views, headless (``metaview render``);
- :mod:`metaimage` views -> 10x10 meta-image, tile shuffle, dataset files;
- :mod:`train`     meta-images -> EfficientNet in MLflow, prediction, export.

This package only holds what they share: the version, the error base class and
the command-line dispatcher.
"""

__version__ = "0.1.0"

# Before anything imports TensorFlow or pyrender: see metaview/native.py.
from metaview.native import allow_gl_and_tensorflow as _allow_gl_and_tensorflow

_allow_gl_and_tensorflow()
