"""Sub-commands of the ``senet`` command line; each module has ``add_parser(subparsers)``."""
