"""The composition root: opens every part of the daemon in order and hands out typed services."""
