"""Fixtures for the aws integration tests."""
