"""Pytest fixtures for the real peers in ``tests.support`` (loaded by ``tests/conftest.py``)."""
