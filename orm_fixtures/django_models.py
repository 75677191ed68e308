"""Django models of the SQL dataset's tables, for standalone Django (no project, no migrations).

Importing this module configures Django if nothing has yet: no installed apps, no default
database (each fixture adds its own alias), naive datetimes as the tables hold them. The
models are ``managed = False``: SQLAlchemy builds the tables (``_sql_dataset``), Django only
reads them, so both ORMs load the very same rows.
"""

from __future__ import annotations

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        DATABASES={},  # the fixtures add theirs (django_fixture.register_database)
        INSTALLED_APPS=[],
        USE_TZ=False,  # the tables hold naive datetimes, as the seed wrote them
        TIME_ZONE="UTC",
    )
    django.setup()

from django.db import models  # noqa: E402  (needs the settings above)

APP_LABEL = "ormgc"


class Entry(models.Model):
    """The seed model: text UUID4 primary key, a date and a number in 1..10,000."""

    id = models.CharField(max_length=36, primary_key=True)
    created_date = models.DateTimeField()
    some_random_number = models.IntegerField()

    class Meta:
        app_label = APP_LABEL
        db_table = "entry"
        managed = False


class Parent(models.Model):
    id = models.IntegerField(primary_key=True)
    name = models.CharField(max_length=32)

    class Meta:
        app_label = APP_LABEL
        db_table = "parent"
        managed = False


class Child(models.Model):
    id = models.IntegerField(primary_key=True)
    parent = models.ForeignKey(Parent, models.DO_NOTHING, related_name="children")
    created_date = models.DateTimeField()
    some_random_number = models.IntegerField()

    class Meta:
        app_label = APP_LABEL
        db_table = "child"
        managed = False
