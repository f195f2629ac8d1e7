"""Benchmarks: generators of realistic collections and the measurements in docs/PERFORMANCE.md."""
