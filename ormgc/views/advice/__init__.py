"""``ormgc advise``: the verdict's rule (``rule``), the advice document (``document``), the advice
file it writes and reads back (``file``) and its text table (``table``)."""
