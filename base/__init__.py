"""metaview's base layer: what every stage shares, below all of them.

- :mod:`base.errors`    the error base class (:class:`~base.errors.MetaviewError`);
- :mod:`base.files`     atomic file writing;
- :mod:`base.native`    the native-library set-up (Mesa GL beside TensorFlow, pool contexts);
- :mod:`base.progress`  the one progress reporter (a bar on a terminal, plain lines in logs);
- :mod:`base.options`   command-line options generated from a stage's config dataclass;
- :mod:`base.versions`  package versions logged beside every output.

It imports no stage, and importing it has no side effect.
"""
