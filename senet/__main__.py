"""``python -m senet``: the ``senet`` command (:func:`senet.cli.main`) without the console script."""

import sys

from senet.cli import main

if __name__ == "__main__":
    sys.exit(main())
