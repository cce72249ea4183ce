"""Test support (not shipped in the package): real servers started in temporary folders, stand-ins for
the APIs Netwarden calls, a small synthetic store. On the path as `support` (tests/conftest.py)."""
