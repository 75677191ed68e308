"""The seed experiment's MongoEngine model: ObjectId id, a date and a number in 1..10,000."""

from __future__ import annotations

from mongoengine import DateTimeField, Document, IntField

ALIAS = "ormgc"  # the connection the fixture opens; a user's "default" connection is left alone


class Entry(Document):
    """The seed model; ``id`` is MongoEngine's implicit ObjectId primary key, as published."""

    created_date = DateTimeField(required=True)
    some_random_number = IntField(required=True)
    meta = {"collection": "entry", "db_alias": ALIAS}
