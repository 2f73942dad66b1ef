"""The documentation pages, and `python -m docs.generate`, which writes their references."""
