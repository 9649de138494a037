"""Benchmarks print figures; they are not pass/fail tests."""
