"""Fixtures for the mlflow integration tests."""
