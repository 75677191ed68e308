"""``ormgc report``: the page (``report``), the records it reads (``report_data``) and its charts
(``versions``, ``curves``, ``memory``, ``thresholds_exact``; shared drawing in ``common``)."""
