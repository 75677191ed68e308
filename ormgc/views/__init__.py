"""Views of results, grouped by what each part produces: ``tables`` (``ormgc run``'s text tables),
``compare`` (Python versions side by side from pyperf and asv results), ``charts`` (``ormgc
report``'s page and charts), ``advice`` (``ormgc advise``'s verdict and document) and ``site``
(``ormgc site``'s folder and README's answer). ``stats``, ``gc_cost`` and ``libraries`` are the
helpers they share."""
