"""``ovnctl bench``: reproducible end-to-end scenarios with the numbers ovnctl claims.

The API server, the controller and the benchmark driver run in three
processes (see :mod:`ovnctl.bench.runner`); one module per scenario
(:mod:`~ovnctl.bench.nadcache`, :mod:`~ovnctl.bench.alloc`,
:mod:`~ovnctl.bench.restart`, :mod:`~ovnctl.bench.memory`), results in
:mod:`ovnctl.bench.report`. docs/bench.md has the method and the results.
"""
