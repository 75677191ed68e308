"""``ormgc site``: the folder to publish (``build``), its landing page (``landing``) and README's
answer table (``answer``, also written into README by scripts/readme_answer.py)."""
