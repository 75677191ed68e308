"""Python versions side by side: pyperf files (``compare``, its paired and exact sections in
``paired_compare`` and ``exact_compare``) and asv results (``asv_compare``)."""
