"""Helpers for tests and benchmarks: real servers started in temporary folders."""
