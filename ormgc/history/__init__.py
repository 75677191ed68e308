"""The asv history across library releases: which releases it measures, and its git commits.

- ``ranges``: ``ormgc/profiles/releases.json``, the measured release ranges (a series per
  library line, each release with its PyPI date), picked evenly from PyPI and appended to by
  ``ormgc pins --refresh``; ``ormgc pins --add-range`` adds a series.
- ``branches``: one generated git commit per release (the suite at the file's ``base``
  commit, its pins moved to that release, dated at the release), one branch per series, so
  that asv draws a line across releases (``scripts/asv_releases.sh`` measures them,
  ``ormgc site`` publishes them).
"""
