"""The ``botwatch`` command line: thin layers over the library."""
