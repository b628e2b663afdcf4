"""The results database: one SQLAlchemy engine over the tables of stored runs (calls), corrections and the
service's batches. SQLite by default (a path, WAL mode); any SQLAlchemy URL (`postgresql://…`) works too.

What is kept in it is reached through one class per concept: jobs.queue.WorkQueue (the calls of a job and
their results), jobs.corrections.Corrections (people's labels), service.batches.BatchRecords (batches).
"""

from __future__ import annotations

import time
from pathlib import Path

from ..errors import InputError


def _tables():
    """The schema: every table of the store, declared here and only here."""
    from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text, UniqueConstraint, text

    metadata = MetaData()
    calls = Table(
        "calls", metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("job", String(64), nullable=False),  # the model and recognition settings: a new model is new work
        Column("source", Text, nullable=False),
        Column("content_hash", String(64), nullable=False),  # changed audio or text is new work
        Column("state", String(8), nullable=False, default="pending"),
        Column("attempts", Integer, nullable=False, default=0),  # failed attempts so far
        Column("worker", String(128)),  # host:pid that claimed it (and, once settled, that did it)
        Column("claimed_at", Float),
        Column("result", Text),  # the output row as JSON
        Column("error", Text),
        Column("updated_at", Float),
        UniqueConstraint("job", "source", "content_hash"),
        Index("ix_calls_job_state", "job", "state"),
        Index("ix_calls_updated", "updated_at"),  # the alert watcher reads what changed since its mark
        Index("ix_calls_listed", "id", sqlite_where=text("result IS NOT NULL"),  # GET /v1/calls counts and
              postgresql_where=text("result IS NOT NULL")),  # pages calls with a result without reading rows
    )
    # A person's label for a call. Never updated: a later correction of the same call supersedes (history kept).
    Table(
        "corrections", metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("call_id", Integer, nullable=False),
        Column("source", Text, nullable=False),
        Column("content_hash", String(64), nullable=False),
        Column("text", Text),  # the transcript the reviewer read
        Column("predicted", String(200)),  # what the model had said
        Column("label", String(200), nullable=False),
        Column("reason", Text),
        Column("reviewer", String(200)),
        Column("created_at", Float, nullable=False),
        Index("ix_corrections_call", "call_id"),
    )
    _service_tables(metadata)
    _learning_tables(metadata)
    _alert_tables(metadata)
    return metadata, calls


def _service_tables(metadata) -> None:
    """The service's tables: batches, sessions, cancelled batches, callback ticks."""
    from sqlalchemy import Column, Float, Integer, String, Table, Text

    # A batch the service was given (uploads or a folder): where its recordings live and which calls it holds.
    Table(
        "batches", metadata,
        Column("id", String(32), primary_key=True),
        Column("job", String(64), nullable=False),
        Column("folder", Text, nullable=False),  # recordings of this batch are served from here only
        Column("call_ids", Text, nullable=False),  # JSON list of calls.id
        Column("created_at", Float, nullable=False),
    )
    # A signed-in page (service/access.py): the SHA-256 of its cookie's token (never the token), a keyed hash
    # of the key it signed in with (another key: the session is dead), when it opened and was last used.
    # (Stores made before it keep an unused `sessions` table: those sessions knew no key, so they are over.)
    Table(
        "page_sessions", metadata,
        Column("digest", String(64), primary_key=True),
        Column("role", String(16), nullable=False),
        Column("key_mark", String(64), nullable=False),
        Column("opened_at", Float, nullable=False),
        Column("last_seen", Float, nullable=False),
    )
    # Batches a person cancelled: never resumed (a table of its own, so that stores made before it still open).
    Table(
        "cancelled_batches", metadata,
        Column("id", String(32), primary_key=True),
        Column("cancelled_at", Float, nullable=False),
    )
    # Calls on the speed-to-lead list a person has rung back ("done"), latest tick of each call.
    Table(
        "callback_ticks", metadata,
        Column("call_id", Integer, primary_key=True),
        Column("done", Integer, nullable=False),
        Column("by", String(200)),
        Column("at", Float, nullable=False),
    )


def _learning_tables(metadata) -> None:
    """Learning in place: the service's model versions (folders STORE.models/N) and how each was checked."""
    from sqlalchemy import Column, Float, Integer, String, Table, Text

    Table(
        "model_versions", metadata,
        Column("version", Integer, primary_key=True, autoincrement=False),
        Column("state", String(16), nullable=False),  # training, active, rejected, retired, failed
        Column("created", Float, nullable=False),
        Column("trained_on", Integer),  # calls it learned from (the --train-data table's and people's)
        Column("labelled_by_people", Integer),  # people's labels when it was trained (check calls included)
        Column("checked_on", Integer),  # people's labelled calls it was checked on (out of fold)
        Column("macro_f1", Float),
        Column("macro_f1_low", Float),
        Column("macro_f1_high", Float),
        Column("compared_version", Integer),  # the active model it was checked against, on the same calls
        Column("compared_macro_f1", Float),
        Column("error", Text),
    )
    # Calls that arrived by themselves (a watched folder, POST /v1/calls): each file once by content, each
    # phone-system call once by its id, across restarts.
    Table(
        "intake", metadata,
        Column("content_hash", String(64), primary_key=True),
        Column("external_id", String(200), unique=True),
        Column("origin", Text, nullable=False),  # the watched file's path, or "push"
        Column("batch_id", String(32)),  # the one-call batch it became (its folder holds the copy)
        Column("call_id", Integer),
        Column("error", Text),  # why it could not be taken (then it is not tried again)
        Column("created_at", Float, nullable=False),
    )


def _alert_tables(metadata) -> None:
    """Alerts (service/alerts.py): the outbox of ring-back alerts, and how far the watcher has read."""
    from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

    # One alert per call, ever (the primary key): a restart or a second process never sends a call twice.
    Table(
        "alerts", metadata,
        Column("call_id", Integer, primary_key=True, autoincrement=False),
        Column("event_id", String(36), nullable=False, unique=True),  # what a receiver deduplicates on
        Column("state", String(12), nullable=False),  # pending, delivered, failed (gave up), withdrawn
        Column("channels", Text, nullable=False),  # JSON {"webhook": state, "email": state}
        Column("payload", Text, nullable=False),  # the JSON body, as first made: every try sends the same
        Column("attempts", Integer, nullable=False, default=0),
        Column("next_try_at", Float, nullable=False),  # also a lease: a sender moves it on before it sends
        Column("last_error", Text),
        Column("delivered_at", Float),
        Column("created_at", Float, nullable=False),
        Index("ix_alerts_state_next", "state", "next_try_at"),
    )
    # Named marks (the watcher's: calls and corrections changed up to this time were looked at).
    Table(
        "alert_marks", metadata,
        Column("name", String(32), primary_key=True),
        Column("value", Float, nullable=False),
    )


class Database:
    """An open results store. `url` is a SQLAlchemy URL or a plain path to a SQLite file."""

    def __init__(self, url: str | Path, progress: bool = True):
        from sqlalchemy import create_engine, event
        from sqlalchemy.exc import SQLAlchemyError

        url = str(url)
        if "://" not in url:
            if Path(url).is_dir():
                raise InputError(f"{url}: is a folder; --store wants a database file, e.g. jobs.db")
            url = f"sqlite:///{url}"
        self.url = url
        try:
            self.engine = create_engine(url)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
            self.metadata, _ = _tables()
            self.metadata.create_all(self.engine)
            for index in self.metadata.tables["calls"].indexes:  # stores made before an index was declared
                index.create(self.engine, checkfirst=True)
            self._search_index(progress)
        except (SQLAlchemyError, ImportError) as exc:
            raise InputError(f"{_safe(url)}: cannot open the results store ({str(exc).splitlines()[0]})") from None

    def _search_index(self, progress: bool) -> None:
        """Create the search index, and fill it once for a store made before it (jobs/fulltext.py)."""
        from sqlalchemy import select

        from .fulltext import BUILT_MARK, SearchIndex

        index, marks = SearchIndex(self), self.table("alert_marks")
        with self.engine.begin() as conn:
            index.create(conn)
            built = conn.execute(select(marks.c.value).where(marks.c.name == BUILT_MARK)).scalar()
        if built is None:
            index.build(progress)
            with self.engine.begin() as conn:
                if conn.execute(select(marks.c.value).where(marks.c.name == BUILT_MARK)).scalar() is None:
                    conn.execute(marks.insert().values(name=BUILT_MARK, value=time.time()))

    def table(self, name: str):
        return self.metadata.tables[name]

    def integrity_ok(self) -> bool:
        """SQLite's own consistency check (always true for other databases)."""
        if self.engine.dialect.name != "sqlite":
            return True
        with self.engine.connect() as conn:
            return conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"

    def close(self) -> None:
        self.engine.dispose()


def open_database(store: str | Path | Database, must_exist: bool = False, progress: bool = True) -> Database:
    """A Database from a path, URL or an open Database; `must_exist` refuses a SQLite file not there yet;
    `progress`: a bar while an older store gets its search index."""
    if isinstance(store, Database):
        return store
    if must_exist and "://" not in str(store) and not Path(str(store)).is_file():
        raise InputError(f"{store}: no such results store")
    return Database(store, progress)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer; a crash keeps committed rows
    cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across a process kill, fast commits
    cursor.execute("PRAGMA busy_timeout=30000")  # a second process waits for the write lock instead of failing
    cursor.close()


def _safe(url: str) -> str:
    """A URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.rsplit('@', 1)[1]}"
    return url
