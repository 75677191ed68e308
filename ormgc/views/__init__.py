"""Views of results: text tables of records (``table``), Python versions side by side from pyperf
files (``compare``) and from asv results (``asv_compare``)."""
