"""The package version, in a module of its own so any module can import it without depending on
the order in which ``video2gif/__init__.py`` imports the rest."""

__version__ = "0.1.0"
