"""Fixtures for the docker integration tests."""
