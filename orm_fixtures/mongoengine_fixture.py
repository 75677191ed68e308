"""MongoEngine datasets: bulk-inserted once into a MongoDB database, verified, reused.

The server keeps the data between runs, so the database plays the part of the SQL fixture's
cached file: a marker document written last says which dataset is complete, and a database
holding anything else (another dataset, an interrupted build) is rebuilt with a message.
"""

from __future__ import annotations

import calendar
import contextlib
import hashlib
import itertools
import struct
import uuid
from typing import Any, Dict, Iterator, Optional

import bson
import mongoengine
import pymongo
from bson import ObjectId
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from . import dataset
from ._cache import cache_dir, exclusive_lock, notify
from .errors import FixtureError
from .mongo_server import is_mongodb_url
from .mongoengine_models import ALIAS, Entry
from .urls import mask_password

_CHUNK = 10_000  # documents per insert_many: bounded memory, few round trips
TIMEOUT_MS = 3_000  # an unreachable server is reported within seconds, not pymongo's 30 s
META_COLLECTION = "ormgc_meta"
_META_ID = "dataset"
_AUTH_FAILED = 18  # MongoDB's AuthenticationFailed error code


def entry_object_id(row: dataset.EntryRow) -> ObjectId:
    """A deterministic ObjectId: created_date as its timestamp, then 8 bytes of the row's UUID."""
    seconds = calendar.timegm(row.created_date.timetuple())
    return ObjectId(struct.pack(">I", seconds) + uuid.UUID(row.id).bytes[-8:])


def entry_documents(rows: int, seed: int) -> Iterator[Dict[str, Any]]:
    """The dataset's rows as the documents Entry maps (same values as the SQL tables)."""
    for row in dataset.entry_rows(rows, seed):
        yield {
            "_id": entry_object_id(row),
            "created_date": row.created_date,
            "some_random_number": row.some_random_number,
        }


def _database_in(url: str) -> str:
    """The database named in a mongodb:// URL's path, or ''."""
    after_hosts = url.split("://", 1)[1].split("/", 1)
    return after_hosts[1].split("?", 1)[0] if len(after_hosts) > 1 else ""


def _short(exc: BaseException) -> str:
    """pymongo's message without the topology dump it appends to selection timeouts."""
    text = str(exc)
    for tail in (" (configured timeouts", ", Timeout:", ", full error:"):
        text = text.split(tail, 1)[0]
    return text.strip()


class MongoEngineFixture:
    """One dataset in one MongoDB database; ``db`` is a mongodb:// URL (``ormgc run`` starts
    the embedded server and hands its URL over). A URL without a database gets one per dataset."""

    orm = "mongoengine"

    def __init__(self, db: str, rows: int, seed: int = dataset.DEFAULT_SEED) -> None:
        if not is_mongodb_url(db):
            raise FixtureError(
                f"unsupported database {mask_password(db)!r} for mongoengine: give a mongodb:// "
                "URL ('embedded' is started by ormgc run, not here)"
            )
        self.url, self.rows, self.seed = db, rows, seed
        self.masked_url = mask_password(db)
        default_name = f"ormgc_v{dataset.SCHEMA_VERSION}_r{rows}_s{seed}"
        self.database = _database_in(db) or default_name
        self._server: Optional[Dict[str, Any]] = None

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """pymongo's errors as one line naming the (masked) server."""
        try:
            yield
        except OperationFailure as exc:
            if exc.code == _AUTH_FAILED:
                problem = "authentication failed (wrong user name or password?)"
            else:
                problem = _short(exc)
            raise FixtureError(f"MongoDB at {self.masked_url}: {doing}: {problem}") from None
        except ConnectionFailure as exc:
            problem = mask_password(_short(exc))
            raise FixtureError(f"cannot reach MongoDB at {self.masked_url}: {problem}") from None
        except PyMongoError as exc:
            problem = mask_password(_short(exc))
            raise FixtureError(f"MongoDB at {self.masked_url}: {doing}: {problem}") from None

    def _connect(self) -> Dict[str, Any]:
        """Connect once; return the server's buildInfo (this is where a bad URL shows)."""
        if self._server is not None:
            return self._server
        defaults = {
            "serverSelectionTimeoutMS": TIMEOUT_MS,
            "connectTimeoutMS": TIMEOUT_MS,
            "uuidRepresentation": "standard",  # unused here; silences MongoEngine's warning
        }
        options = {k: v for k, v in defaults.items() if k.lower() not in self.url.lower()}
        try:
            with self._errors("connecting"):
                mongoengine.connect(db=self.database, host=self.url, alias=ALIAS, **options)
                self._server = mongoengine.get_db(ALIAS).client.admin.command("buildInfo")
        except FixtureError:
            mongoengine.disconnect(ALIAS)
            raise
        except Exception as exc:  # a server that cannot authenticate may answer garbage
            mongoengine.disconnect(ALIAS)
            raise FixtureError(
                f"MongoDB at {self.masked_url} broke off the handshake "
                f"({type(exc).__name__}: {mask_password(str(exc))}); does it support "
                "authentication? (the embedded server does not)"
            ) from None
        return self._server

    def _db(self) -> Any:
        self._connect()
        return mongoengine.get_db(ALIAS)

    def _expected_meta(self) -> Dict[str, Any]:
        return {
            "_id": _META_ID,
            "schema_version": dataset.SCHEMA_VERSION,
            "rows": self.rows,
            "seed": self.seed,
        }

    def verify(self) -> Optional[str]:
        """None if the database holds the complete dataset, else what it holds instead."""
        database = self._db()
        with self._errors("reading the dataset"):
            meta = database[META_COLLECTION].find_one({"_id": _META_ID})
            count = database[Entry._meta["collection"]].estimated_document_count()
        if meta is None:
            return "missing" if count == 0 else f"an incomplete build ({count} documents)"
        if meta != self._expected_meta():
            found = {key: meta.get(key) for key in ("schema_version", "rows", "seed")}
            return f"another dataset ({found})"
        if count != self.rows:
            return f"{count} documents, expected {self.rows}"
        return None

    def _build(self) -> None:
        database = self._db()
        collection = database[Entry._meta["collection"]]
        with self._errors("building the dataset"):
            database.drop_collection(META_COLLECTION)  # first: no marker while half-built
            collection.drop()
            documents = entry_documents(self.rows, self.seed)
            while True:
                chunk = list(itertools.islice(documents, _CHUNK))
                if not chunk:
                    break
                collection.insert_many(chunk)
            database[META_COLLECTION].insert_one(self._expected_meta())

    def _lock_path(self) -> Any:
        """One builder per server and database (per cache folder: locks are local files)."""
        hosts = self.masked_url.split("://", 1)[1].split("/", 1)[0]
        where = f"{hosts}/{self.database}".encode()
        folder = cache_dir() / "locks"
        folder.mkdir(exist_ok=True)
        return folder / f"mongodb-{hashlib.sha256(where).hexdigest()[:16]}.lock"

    def ensure(self) -> None:
        """Build the dataset unless the database already holds it, verified."""
        if self.verify() is None:
            return
        label = f"MongoDB dataset of {self.rows} documents"
        with exclusive_lock(self._lock_path(), label):
            problem = self.verify()  # another builder may have finished while we waited
            if problem is None:
                return
            where = f"database {self.database!r} at {self.masked_url}"
            if problem != "missing":
                notify(f"{where} holds {problem}; rebuilding")
            notify(f"building {label} (once; kept in {where})")
            self._build()
            problem = self.verify()
            if problem is not None:
                raise FixtureError(f"freshly built {label} failed verification: {problem}")

    def describe(self) -> Dict[str, Any]:
        """What a record says about the ORM, the driver and the server (password masked)."""
        server = self._connect()
        return {
            "orm": self.orm,
            "orm_version": mongoengine.__version__,
            "driver": "pymongo",
            "driver_version": pymongo.version,
            "driver_impl": "c" if pymongo.has_c() and bson.has_c() else "python",
            "backend": self.masked_url,
            "server": str(server.get("process") or "mongod"),
            "server_version": str(server.get("version", "unknown")),
        }

    def count_entries(self) -> int:
        self._connect()
        with self._errors("counting entries"):
            return Entry.objects.count()  # no filter: MongoEngine asks for the plain count

    @contextlib.contextmanager
    def documents(self) -> Iterator[Any]:
        """The Entry document class, bound to this database; pymongo errors become one line."""
        self._connect()
        with self._errors("querying"):
            yield Entry

    def close(self) -> None:
        if self._server is not None:
            mongoengine.disconnect(ALIAS)
            self._server = None
