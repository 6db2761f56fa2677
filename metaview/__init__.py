"""metaview: the command on top of the pipeline (``metaview SUB-COMMAND``), and only that.

Floors, bottom up; a package imports only from its own floor or below (lazy imports
included; ``tests/test_layers.py`` checks it):

- :mod:`base`       errors, atomic files, progress, options, versions, native set-up;
- :mod:`geometry`   mesh files, STL codec, mesh checks, straightening;
- :mod:`metaimage`  views -> meta-image grid, tile shuffle, dataset files;
- :mod:`render`     meshes -> normal-coloured views, headless (``metaview render``);
  :mod:`assets`     labelled synthetic workpieces and reachability (``metaview synth``,
  ``metaview reach``);
- :mod:`train`      classifiers in MLflow, prediction, export (``metaview train``,
  ``predict``, ``export``, ``runs``); it may use :mod:`render` to draw what it predicts;
- :mod:`metaview`   the command-line dispatcher and the demo.

Importing it (or any stage) has no side effect. A process that loads both Mesa GL
and TensorFlow (the ``metaview`` command, the test suite) calls
:func:`base.native.allow_gl_and_tensorflow` itself, first.
"""

__version__ = "0.1.0"
