"""ick: continuous integration and delivery on one box that can grow to many."""

__version__ = "0.1.0"
