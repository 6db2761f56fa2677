"""``python -m metaview``: the same as the ``metaview`` command."""

import sys

from metaview.cli import main

if __name__ == "__main__":  # guarded so that multiprocessing's spawn can import this module
    sys.exit(main())
