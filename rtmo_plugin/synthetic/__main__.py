"""``python -m rtmo_plugin.synthetic``: see :mod:`rtmo_plugin.synthetic`."""
from rtmo_plugin.synthetic import main

main()
