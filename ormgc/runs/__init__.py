"""Driving measurements: which interpreter (``pythons``, ``envs``), fresh worker processes per
measurement (``runner``), and the pyperf matrix on one interpreter (``pyperf_plan``,
``pyperf_main``)."""
