#!/usr/bin/env python3
"""Seeds a stopped box's database with a clinic's history for scripts/bench.sh: past slots,
bookings (most arrived, some no-shows and cancellations), their audit records and their
outbox history (the messages a running box still keeps), written straight into SQLite in the schema the booking plugin and the core
use (plugins/booking/migrations, core/src/store/CoreMigrations.cpp).

The audit records are appended to the box's chain exactly as core/src/audit/AuditLog.cpp
writes them (format 2: length-prefixed fields, HMAC-SHA256 with data_dir/audit.key, each
record naming the hash before it) and the keyed head in kb_meta is moved, so
`klinikbox audit verify` still passes afterwards; the anchor file (audit.head) names an
older record of the same chain and stays valid.

  bench_seed.py --db DB --key AUDIT_KEY --count N --practitioner HSA --unit HSA
                --visit-type ID --user USERNAME

The practitioner, unit, visit type and user must exist (the benchmark creates them through
the API). The slots lie in the past, before the day before yesterday, on a schedule of
their own that ended then, so they never meet the slots the box generates. The box must be
stopped: the seeding is one transaction without the box's writer lock.
"""
import argparse
import hashlib
import hmac
import random
import sqlite3
import sys
import time

GENESIS = "0" * 64
FORMAT2_KEY = "audit_format2_from"
PURPOSE_CARE = "vård"


def canonical_v2(seq, at, user_id, username, role, hsa, unit, action, patient, purpose, outcome,
                 details, request_id, addr, prev):
    """The text AuditLog::canonical hashes in format 2: every field as <bytes>:<value>;"""
    fields = ["v2", str(seq), at, "null" if user_id is None else str(user_id), username, role, hsa,
              unit, action, patient, purpose, outcome, details, request_id, addr, prev]
    return "".join(f"{len(f.encode())}:{f};" for f in fields)


def mac(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def personnummer(rng):
    """A 12-digit personnummer of an adult (born 1940-2005) with a valid check digit."""
    year = rng.randint(1940, 2005)
    digits = f"{year % 100:02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    s = 0
    for k, c in enumerate(digits):
        v = int(c) * (2 if k % 2 == 0 else 1)
        s += v // 10 + v % 10
    return f"{year // 100}{digits}{(10 - s % 10) % 10}"


def iso_ms(unix_ms):
    t = time.gmtime(unix_ms // 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{unix_ms % 1000:03d}Z"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--key", required=True, help="data_dir/audit.key")
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--practitioner", required=True)
    ap.add_argument("--unit", required=True)
    ap.add_argument("--visit-type", required=True)
    ap.add_argument("--user", required=True, help="the staff account the bookings were made by")
    ap.add_argument("--seed", type=int, default=15)
    a = ap.parse_args()
    if a.count < 1:
        sys.exit("bench_seed: --count must be at least 1")
    rng = random.Random(a.seed)
    with open(a.key, "rb") as f:
        key = f.read()
    if len(key) < 32:
        sys.exit("bench_seed: the audit key is truncated")

    db = sqlite3.connect(a.db, isolation_level=None)
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN IMMEDIATE")
    user = db.execute("SELECT id, role, hsa_id, care_unit FROM kb_users WHERE username = ?", (a.user,)).fetchone()
    if not user:
        sys.exit(f"bench_seed: no user {a.user}")
    user_id, role, user_hsa, user_unit = user
    minutes = db.execute("SELECT minutes FROM booking_visit_types WHERE id = ?", (a.visit_type,)).fetchone()
    if not minutes:
        sys.exit(f"bench_seed: no visit type {a.visit_type}")
    step = minutes[0] * 60

    # The past: slots every `step` seconds, the last one ending before the day before yesterday.
    day = 86400
    end = (int(time.time()) // day - 2) * day
    first = end - a.count * step
    valid_from = time.strftime("%Y-%m-%d", time.gmtime(first))
    valid_to = time.strftime("%Y-%m-%d", time.gmtime(end - day))
    cur = db.execute(
        "INSERT INTO booking_schedules(practitioner, visit_type, weekdays, start_min, end_min, valid_from, valid_to,"
        " created_at) VALUES(?,?,?,?,?,?,?,?)",
        (a.practitioner, a.visit_type, "1,2,3,4,5,6,7", 0, 1440, valid_from, valid_to, first - 30 * day))
    schedule = cur.lastrowid
    slot0 = (db.execute("SELECT COALESCE(MAX(id), 0) FROM booking_slots").fetchone()[0]) + 1
    db.executemany(
        "INSERT INTO booking_slots(id, schedule_id, practitioner, unit, visit_type, start_at, end_at) VALUES(?,?,?,?,?,?,?)",
        ((slot0 + i, schedule, a.practitioner, a.unit, a.visit_type, first + i * step, first + (i + 1) * step)
         for i in range(a.count)))

    # A clinic's patients come back: about five visits each.
    patients = [personnummer(rng) for _ in range(max(1, a.count // 5))]
    booking0 = (db.execute("SELECT COALESCE(MAX(id), 0) FROM booking_bookings").fetchone()[0]) + 1
    bookings, outbox, events = [], [], []
    # Outbox history as a running box keeps it: maintenance deletes delivered messages after
    # 30 days (core/src/server/Maintenance.h), so only the last 29 days' are there.
    kept_from = (int(time.time()) - 29 * day) * 1000
    for i in range(a.count):
        bid, slot, start = booking0 + i, slot0 + i, first + i * step
        created = start - rng.randint(1, 40) * day + rng.randint(0, day - 1)
        r = rng.random()
        status = "arrived" if r < 0.82 else "noshow" if r < 0.88 else "cancelled"
        patient = rng.choice(patients)
        changed = start if status in ("arrived", "noshow") else created + rng.randint(60, day)
        bookings.append((bid, slot, patient, status, "console", "", "mätning", "", "0701234567", "", "", created,
                         a.user, changed, "", None, None))
        ms = created * 1000
        if ms >= kept_from:
            outbox.append(("booking", "booking.sms", f"booking-{bid}-confirmation-sms", "", "delivered", 1, ms, None, ms,
                           ms + 900, ms + 900))
        rm = (start - day) * 1000
        if status != "cancelled" and rm >= kept_from:
            outbox.append(("booking", "booking.sms", f"booking-{bid}-reminder-24-sms", "", "delivered", 1, rm, None, rm,
                           rm + 700, rm + 700))
        rid = "%016x" % rng.getrandbits(64)
        events.append((ms + rng.randint(0, 999), user_id, a.user, role, user_hsa, user_unit, "booking.create", patient,
                       PURPOSE_CARE, "ok", f"booking {bid} via console", rid, "127.0.0.1"))
        if status == "arrived":
            events.append((start * 1000 - rng.randint(0, 600000), None, "system:booking", "system", "", "",
                           "booking.arrived", patient, PURPOSE_CARE, "ok", f"booking {bid}", "", ""))
        elif status == "cancelled":
            events.append((changed * 1000, user_id, a.user, role, user_hsa, user_unit, "booking.cancel", patient,
                           PURPOSE_CARE, "ok", f"booking {bid} cancelled by staff", "%016x" % rng.getrandbits(64),
                           "127.0.0.1"))
    db.executemany(
        "INSERT INTO booking_bookings(id, slot_id, patient, status, channel, purpose, reason, note, phone, email,"
        " guardian, created_at, created_by, changed_at, triage, urgency_days, request_key)"
        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", bookings)
    db.executemany(
        "INSERT INTO kb_outbox(owner, channel, idempotency_key, payload, state, attempts, next_attempt_at, last_error,"
        " created_at, updated_at, delivered_at) VALUES(?,?,?,?,?,?,?,?,?,?,?)", outbox)

    # The audit chain, appended in the order the records were written.
    events.sort(key=lambda e: e[0])
    head = db.execute("SELECT seq, hash FROM kb_audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (head[0], head[1]) if head else (0, GENESIS)
    f2 = db.execute("SELECT value FROM kb_meta WHERE key = ?", (FORMAT2_KEY,)).fetchone()
    if f2 is None:
        db.execute("INSERT INTO kb_meta(key, value) VALUES(?, ?)", (FORMAT2_KEY, str(seq + 1)))
    elif int(f2[0]) > seq + 1:
        sys.exit("bench_seed: the audit log is in format 1; seeding writes format 2 only")
    rows = []
    for (ms, uid, username, urole, hsa, unit, action, patient, purpose, outcome, details, rid, addr) in events:
        seq += 1
        at = iso_ms(ms)
        h = mac(key, canonical_v2(seq, at, uid, username, urole, hsa, unit, action, patient, purpose, outcome,
                                  details, rid, addr, prev))
        rows.append((seq, at, uid, username, urole, hsa, unit, action, patient, purpose, outcome, details, rid, addr,
                     prev, h))
        prev = h
    db.executemany(
        "INSERT INTO kb_audit(seq, at, user_id, username, role, hsa_id, care_unit, action, patient, purpose, outcome,"
        " details, request_id, remote_addr, prev_hash, hash) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    hv = f"{seq}:{prev}"
    db.execute("INSERT INTO kb_meta(key, value) VALUES('audit_head', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
               (hv + ":" + mac(key, "head:" + hv),))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    print(f"seeded {a.count} bookings, {len(rows)} audit records, {len(outbox)} outbox messages")


if __name__ == "__main__":
    main()
