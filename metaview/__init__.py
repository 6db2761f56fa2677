"""metaview: STL workpieces -> normal-map meta-images -> EfficientNet classifier.

The pipeline stages live in their own top-level packages:

- :mod:`assets`    labelled synthetic workpieces (``metaview synth``) and the bundled set;
- :mod:`render`    mesh -> 100 normal-map views, headless (``metaview render``);
- :mod:`metaimage` views -> 10x10 meta-image, tile shuffle, dataset files;
- :mod:`train`     meta-images -> EfficientNet in MLflow, prediction, export.

This package only holds what they share: the version, the error base class,
package versions, the native-library set-up and the command-line dispatcher.

Importing it (or any stage) has no side effect. A process that loads both Mesa GL
and TensorFlow (the ``metaview`` command, the test suite) calls
:func:`metaview.native.allow_gl_and_tensorflow` itself, first.
"""

__version__ = "0.1.0"
