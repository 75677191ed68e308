"""What runs inside the measured interpreter: the probe, GC policies, one measurement per
process (``python -m ormgc.worker.measure``) and the pyperf worker's timed loop.

Nothing here starts processes or reads results: that is ``ormgc.runs``.
"""
