"""Ring-back alerts: a stored call that lands on the ring-back list (the report's rule, people's corrections
applied) is sent to each configured channel (service/notify.py), once, also across restarts.

Two background threads share an outbox in the store (table `alerts`, one row per call: its primary key is
what makes an alert unique). The watcher reads the calls whose rows changed since its mark (calls.updated_at:
a new result, a re-scored row of a learning service) and the calls people corrected, applies the rule, and
adds an entry for each call newly on the list. The sender takes due entries (moving next_try_at on first, a
lease: a second process or a killed one never sends twice at once; a killed one's entry is tried again
after the lease), checks the call is still on the list (a call corrected off it, or ticked as rung back, is
'withdrawn' and sends nothing), sends each channel not yet delivered, and schedules a failed one again
(notify.retry_delay) until it is delivered or, after a day, 'failed'.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Collection

from ..service_config import NotifyConfig, ServeConfig
from .notify import NotSent, alert_body, encoded, iso, retry_delay, senders

log = logging.getLogger(__name__)

WATCH_EVERY = 0.5  # seconds between looks for changed calls
OVERLAP = 5.0  # seconds re-read behind the mark: a row committed just after a later-stamped one is not missed
LEASE = 60.0  # an entry being sent is not taken again for this long (longer than any one try)
MARK = "watched"


class Outbox:
    """The alerts table (and the watcher's mark) of a results store."""

    def __init__(self, db):
        self.db, self.table, self.marks = db, db.table("alerts"), db.table("alert_marks")

    def known(self, ids: Collection[int]) -> set[int]:
        from sqlalchemy import select

        c = self.table.c
        with self.db.engine.connect() as conn:
            return set(conn.execute(select(c.call_id).where(c.call_id.in_(list(ids)))).scalars())

    def add(self, call_id: int, event_id: str, payload: str, channels: list[str], now: float) -> bool:
        """A new pending entry, unless the call has one already (INSERT … ON CONFLICT DO NOTHING); True if added."""
        if self.db.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(self.table).on_conflict_do_nothing(index_elements=["call_id"]).values(
            call_id=call_id, event_id=event_id, state="pending", channels=json.dumps(dict.fromkeys(channels, "pending")),
            payload=payload, attempts=0, next_try_at=now, created_at=now)
        with self.db.engine.begin() as conn:
            return conn.execute(statement).rowcount == 1

    def due(self, now: float, limit: int = 20) -> list[dict]:
        from sqlalchemy import select

        c = self.table.c
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(self.table).where(c.state == "pending", c.next_try_at <= now)
                                .order_by(c.next_try_at).limit(limit)).all()
        return [r._asdict() for r in rows]

    def take(self, entry: dict, now: float) -> bool:
        """Lease a due entry to this sender (no other takes it meanwhile); False when another was first."""
        c = self.table.c
        with self.db.engine.begin() as conn:
            return conn.execute(self.table.update().where(
                c.call_id == entry["call_id"], c.state == "pending", c.next_try_at == entry["next_try_at"])
                .values(next_try_at=now + LEASE)).rowcount == 1

    def settle(self, call_id: int, **values) -> None:
        if isinstance(values.get("channels"), dict):
            values["channels"] = json.dumps(values["channels"])
        with self.db.engine.begin() as conn:
            conn.execute(self.table.update().where(self.table.c.call_id == call_id).values(**values))

    def latest(self, limit: int = 100) -> list[dict]:
        """The newest entries first, as GET /v1/alerts shows them."""
        from sqlalchemy import select

        with self.db.engine.connect() as conn:
            rows = conn.execute(select(self.table).order_by(self.table.c.created_at.desc(),
                                                            self.table.c.call_id.desc()).limit(limit)).all()
        return [{"call_id": r.call_id, "event_id": r.event_id, "state": r.state, "channels": json.loads(r.channels),
                 "attempts": r.attempts, "last_error": r.last_error, "created_at": iso(r.created_at),
                 "delivered_at": iso(r.delivered_at), "next_try_at": iso(r.next_try_at) if r.state == "pending" else None,
                 "alert": json.loads(r.payload)} for r in rows]

    def mark(self) -> float | None:
        from sqlalchemy import select

        with self.db.engine.connect() as conn:
            return conn.execute(select(self.marks.c.value).where(self.marks.c.name == MARK)).scalar()

    def set_mark(self, value: float) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(self.marks.delete().where(self.marks.c.name == MARK))
            conn.execute(self.marks.insert().values(name=MARK, value=value))


class Alerts:
    """The watcher and the sender of a Service with a store and --notify-url and/or --smtp-host."""

    def __init__(self, service, config: NotifyConfig):
        self.service, self.config = service, config
        self.outbox = Outbox(service.work.db)
        self.senders = senders(config)
        self.public_url = config.public_url or default_public_url(service.config)
        self.wake = threading.Event()  # set when an entry is added: the sender need not wait its round
        self.seen: dict[int, float] = {}  # call -> the change of it already looked at
        self.mark = self.outbox.mark()
        if self.mark is None:  # alerts just turned on: the calls stored before them send none
            self.mark = time.time()
            self.outbox.set_mark(self.mark)
        threading.Thread(target=self._loop, args=(self.watch_once, threading.Event()), name="callsort-alert-watch",
                         daemon=True).start()
        threading.Thread(target=self._loop, args=(self.send_due, self.wake), name="callsort-alert-send",
                         daemon=True).start()

    def _loop(self, step, wake: threading.Event) -> None:
        while True:
            try:
                busy = step()
            except Exception:  # noqa: BLE001 - a store hiccup must not end the thread; the next round tries again
                log.exception("alerts: %s failed", step.__name__)
                busy = 0
            if not busy:
                wake.wait(WATCH_EVERY)
                wake.clear()

    def changed(self) -> dict[int, float]:
        """Calls whose row changed (or that a person corrected) since the mark, less OVERLAP: id -> when."""
        from sqlalchemy import select

        since = self.mark - OVERLAP
        calls, fixes = self.service.work.calls_table.c, self.service.work.db.table("corrections").c
        with self.service.work.db.engine.connect() as conn:
            found = conn.execute(select(calls.id, calls.updated_at).where(
                calls.updated_at > since, calls.result.is_not(None), calls.state == "done")).all()
            found += conn.execute(select(fixes.call_id, fixes.created_at).where(fixes.created_at > since)).all()
        stamps: dict[int, float] = {}
        for call_id, stamp in found:
            stamps[call_id] = max(stamp, stamps.get(call_id, 0.0))
        return stamps

    def watch_once(self) -> int:
        """Add an entry for each changed call newly on the list; returns how many were added. A learning
        service's alerts wait for its first model (the mark stays: what changed meanwhile is looked at then)."""
        if self.service.model is None:
            return 0
        stamps = self.changed()
        fresh = [i for i, stamp in stamps.items() if self.seen.get(i) != stamp]
        fresh = [i for i in fresh if i not in self.outbox.known(fresh)] if fresh else []
        added = 0
        now = time.time()
        for call_id, (entry, when) in self.listed(fresh).items() if fresh else ():
            event_id = str(uuid.uuid4())  # kept with the entry: every try and every restart sends this one
            payload = encoded(alert_body(event_id, entry, when, now, self.public_url)).decode()
            added += self.outbox.add(call_id, event_id, payload, list(self.senders), now)
        self.seen.update({i: stamps[i] for i in fresh})
        newest = max(stamps.values(), default=self.mark)
        if newest > self.mark:
            self.mark = newest
            self.outbox.set_mark(newest)
            self.seen = {i: s for i, s in self.seen.items() if s > self.mark - OVERLAP}
        if added:
            log.info("alerts: %d calls to ring back", added)
            self.wake.set()
        return 0  # the watcher looks again after WATCH_EVERY either way

    def listed(self, ids: list[int]) -> dict[int, tuple[dict, object]]:
        """Those of `ids` on the ring-back list now, not ticked as rung back: id -> (their list entry, when
        the call was made or None). A row without a label (a learning service's before its first model)
        is on no list."""
        from ..evidence.metadata import call_datetime
        from ..insights.callbacks import chance_recoverable
        from ..insights.report import calls_to_ring_back
        from ..insights.rules import LeadRules
        from .report_routes import stored_rows

        rules = LeadRules()
        rows = [r for r in stored_rows(self.service, ids=ids) if r.get("label") and not r.get("error")
                and chance_recoverable(r, rules) >= rules.callback_threshold]
        if any((r.get("meta") or {}).get("caller") for r in rows):
            rows = stored_rows(self.service)  # a later call of the same number may have booked: the whole rule
        by_id = {r["call_id"]: r for r in rows}
        entries = calls_to_ring_back(rows, rules, self.service.agent_names, self.service.company_says) if rows else []
        wanted = set(ids)
        return {e["call_id"]: (e, call_datetime(by_id[e["call_id"]].get("meta") or {}))
                for e in entries if e["call_id"] in wanted and not e["done"]}

    def send_due(self) -> int:
        """Send the entries due now (each leased first); returns how many were due."""
        entries = self.outbox.due(time.time())
        for entry in entries:
            if self.outbox.take(entry, time.time()):
                self.deliver(entry)
        return len(entries)

    def deliver(self, entry: dict) -> None:
        """One try of an entry: withdrawn when its call left the list, else each channel not yet delivered."""
        channels = json.loads(entry["channels"])
        call_id = entry["call_id"]
        if call_id not in self.listed([call_id]):
            self.outbox.settle(call_id, state="withdrawn", channels={name: "withdrawn" if state == "pending" else state
                                                                     for name, state in channels.items()})
            log.info("alerts: call %d is no longer on the ring-back list: its alert is withdrawn", call_id)
            return
        alert, errors = json.loads(entry["payload"]), []
        for name, state in channels.items():
            send = self.senders.get(name)
            if state != "pending" or send is None:  # a channel turned off since: nothing to send it to
                channels[name] = state if state != "pending" else "off"
                continue
            try:
                send(alert, entry["payload"].encode())
                channels[name] = "delivered"
            except NotSent as exc:
                errors.append(str(exc))
        self._settle(entry, channels, errors)

    def _settle(self, entry: dict, channels: dict, errors: list[str]) -> None:
        now, attempts = time.time(), entry["attempts"] + 1
        if not errors:
            self.outbox.settle(entry["call_id"], state="delivered", channels=channels, attempts=attempts,
                               delivered_at=now)
            return
        delay = retry_delay(attempts, now - entry["created_at"])
        if delay is None:
            channels = {name: "failed" if state == "pending" else state for name, state in channels.items()}
            log.warning("alerts: call %d: given up after %d tries (%s)", entry["call_id"], attempts, errors[-1])
        self.outbox.settle(entry["call_id"], state="pending" if delay is not None else "failed", channels=channels,
                           attempts=attempts, last_error="; ".join(errors),
                           next_try_at=now + (delay if delay is not None else 0.0))


def default_public_url(config: ServeConfig) -> str:
    """http://HOST:PORT of the service; this machine's name when it listens on every interface."""
    import socket

    host = socket.gethostname() if config.host in ("0.0.0.0", "::", "") else config.host
    return f"http://{f'[{host}]' if ':' in host else host}:{config.port}"
