"""The harness above the library: what the tests, ``tools/``, the demos and the benchmark
share (twin models and batches, timing, tables, demo runs, deploy latency and AP).

The library (every other module of ``rtmo_plugin``) never imports this package; command-line
entry points (``__main__`` modules, ``tools/``) and ``projects/`` may.
"""
