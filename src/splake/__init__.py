"""splake: Amazon SP-API data into your own lake."""

__version__ = "0.1.0"
