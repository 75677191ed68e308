"""The one exception type fixtures raise for problems a user can fix (bad URL, no server...)."""


class FixtureError(Exception):
    """A one-line, user-facing problem with a dataset or database; never a bug."""
