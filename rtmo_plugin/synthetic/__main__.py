"""``python -m rtmo_plugin.synthetic``: see :mod:`rtmo_plugin.synthetic`."""
from .cli import main

main()
