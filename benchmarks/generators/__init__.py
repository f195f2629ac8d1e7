"""Generators of sample material, outside the archive itself, used by `make demo`, the tests and
the benchmarks: `samples` writes real files of every format and the demo collection,
`collection` mixed collections of any size, `records` catalog records at scale."""
