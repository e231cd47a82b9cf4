"""Example applications built on jobq (importable from the repository root: ``examples.messaging``)."""
