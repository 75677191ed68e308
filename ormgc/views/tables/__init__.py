"""``ormgc run``'s text tables: records (``table``), workloads and request loops
(``workload_table``), callgrind's exact counts (``exact_table``)."""
