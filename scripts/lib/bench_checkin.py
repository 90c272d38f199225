#!/usr/bin/env python3
"""The reception's path for scripts/bench.sh: book N patients into today's next free slots,
check each in at the desk, take each fee at the desk, and follow the fee reports through the
outbox until e-frikort (the simulator) has registered every payment.

  bench_checkin.py --url URL --cookie kb_session=... --csrf TOKEN --unit HSA --db DB
                   [--count N] [--clients C] [--window-minutes M] [--drain-timeout S]

Prints three lines:
  CHECKIN <check-ins/s> <p50 ms> <p99 ms> <errors>
  PAYMENT <payments/s> <p50 ms> <p99 ms> <errors>
  DRAIN <payments paid> <registrations delivered> <ms from the last payment to the last
        registration> <registrations/s from the first payment to the last registration> <dead>
The session must be a staff or admin account's (it books, checks in and takes payment). The
checkin plugin's window (window_before_minutes) must cover `--window-minutes`.
"""
import argparse
import datetime
from zoneinfo import ZoneInfo
import http.client
import json
import queue
import random
import sqlite3
import ssl
import sys
import threading
import time
import urllib.parse


class Client:
    """One keep-alive HTTPS connection with the session's cookie and CSRF token."""

    def __init__(self, url, cookie, csrf):
        u = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPSConnection(u.hostname, u.port, context=ssl._create_unverified_context(),
                                                timeout=60)
        self.headers = {"Cookie": cookie, "X-CSRF-Token": csrf, "Content-Type": "application/json"}

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        # The box closes a keep-alive connection idle longer than server.slow_clients
        # .keep_alive_ms: a request on such a connection is sent again on a new one.
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=self.headers)
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()  # http.client reconnects on the next request
        return 0, b""


def personnummer(i):
    """Distinct adults (born 1966-1985, so every fee counts and none is exempt by age)."""
    digits = f"{66 + i % 20:02d}{1 + i // 20 % 12:02d}{1 + i // 240 % 28:02d}{500 + i // 6720:03d}"
    s = 0
    for k, c in enumerate(digits):
        v = int(c) * (2 if k % 2 == 0 else 1)
        s += v // 10 + v % 10
    return "19" + digits + str((10 - s % 10) % 10)


def percentile(values, p):
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def run_parallel(args, what, items, fn, ok_statuses=(201,)):
    """fn(client, item) -> (status, body); returns (items/s, p50 ms, p99 ms, errors, start, end) in wall time."""
    work = queue.Queue()
    for it in items:
        work.put(it)
    latencies, errors, lock = [], [0], threading.Lock()
    seen = {}  # the first answer of each failing status, for the log

    def worker():
        c = Client(args.url, args.cookie, args.csrf)
        while True:
            try:
                it = work.get_nowait()
            except queue.Empty:
                return
            t = time.monotonic()
            status, body = fn(c, it)
            dt = (time.monotonic() - t) * 1000
            with lock:
                latencies.append(dt)
                if status not in ok_statuses:
                    errors[0] += 1
                    if status not in seen:
                        seen[status] = body[:300]
                        print(f"bench_checkin: {what} answered {status}: {seen[status]!r}", file=sys.stderr)

    start = time.time()
    threads = [threading.Thread(target=worker) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    end = time.time()
    rate = len(items) / (end - start) if end > start else 0
    return rate, percentile(latencies, 50), percentile(latencies, 99), errors[0], start, end


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--cookie", required=True)
    ap.add_argument("--csrf", required=True)
    ap.add_argument("--unit", required=True)
    ap.add_argument("--db", required=True, help="the box's database (read only, for the outbox's state)")
    ap.add_argument("--count", type=int, default=150)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--window-minutes", type=int, default=230)
    ap.add_argument("--drain-timeout", type=float, default=120)
    args = ap.parse_args()
    c = Client(args.url, args.cookie, args.csrf)

    # Today's next free slots that the check-in window covers. "Today" is the clinic's
    # (Europe/Stockholm) date: a window that runs past its midnight would book slots that the
    # desk, rightly, does not find among today's bookings.
    today_date = datetime.datetime.now(ZoneInfo("Europe/Stockholm")).date()
    today = today_date.isoformat()
    status, body = c.call("GET", f"/api/v1/booking/timeslots?unit={args.unit}&date={today}&days=2")
    if status != 200:
        sys.exit(f"bench_checkin: timeslots answered {status}: {body[:200]!r}")
    horizon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=args.window_minutes)
    slots = [s["slot_id"] for s in json.loads(body)["timeslots"]
             if datetime.datetime.fromisoformat(s["startTimeInclusive"]) <= horizon
             and datetime.datetime.fromisoformat(s["startTimeInclusive"]).date() == today_date]
    random.Random(15).shuffle(slots)
    slots = slots[:args.count]
    if not slots:
        sys.exit("bench_checkin: no free slot left today in the check-in window (the clinic's day ends at midnight, Europe/Stockholm)")
    patients = [personnummer(i) for i in range(len(slots))]
    for slot, patient in zip(slots, patients):
        status, body = c.call("POST", "/api/v1/booking/bookings", {"slot_id": slot, "patient": patient})
        if status != 201:
            sys.exit(f"bench_checkin: booking slot {slot} answered {status}: {body[:200]!r}")

    checkin = run_parallel(args, "a desk check-in", patients, lambda cl, p: cl.call(
        "POST", "/api/v1/checkin/desk/arrivals", {"patient": p}))
    status, body = c.call("GET", f"/api/v1/checkin/day?date={today}")
    if status != 200:
        sys.exit(f"bench_checkin: the day report answered {status}: {body[:200]!r}")
    ours = set(patients)
    visits = [v["visit_id"] for v in json.loads(body)["visits"] if v.get("patient") in ours]

    payment = run_parallel(args, "a desk payment", visits, lambda cl, v: cl.call(
        "POST", f"/api/v1/checkin/visits/{v}/payment", {"method": "desk"}))
    first_ms, last_ms = int(payment[4] * 1000), int(payment[5] * 1000)

    # The fee reports go checkin.feereport -> checkin.fee.paid -> efrikort.register, each
    # through the outbox; wait until every paid fee is registered (or the time is up).
    db = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True, timeout=30)
    visit_params = ",".join("?" * len(visits))  # one SQL parameter per visit
    paid = db.execute(f"SELECT COUNT(*) FROM checkin_payments WHERE status = 'paid' AND amount_ore > 0"
                      f" AND visit_id IN ({visit_params})", visits).fetchone()[0] if visits else 0
    deadline = time.time() + args.drain_timeout
    delivered, last_delivered, dead = 0, 0, 0
    while True:
        delivered, last_delivered, dead = db.execute(
            "SELECT COUNT(*) FILTER (WHERE state = 'delivered'), COALESCE(MAX(delivered_at), 0),"
            " COUNT(*) FILTER (WHERE state = 'dead') FROM kb_outbox WHERE channel = 'efrikort.register'"
            " AND created_at >= ?", (first_ms - 1000,)).fetchone()
        if delivered + dead >= paid or time.time() > deadline:
            break
        time.sleep(0.05)
    drain_ms = last_delivered - last_ms if delivered else -1
    reg_rate = delivered / ((last_delivered - first_ms) / 1000) if delivered and last_delivered > first_ms else 0
    print("CHECKIN %.1f %.2f %.2f %d" % checkin[:4])
    print("PAYMENT %.1f %.2f %.2f %d" % payment[:4])
    print("DRAIN %d %d %d %.1f %d" % (paid, delivered, drain_ms, reg_rate, dead))


if __name__ == "__main__":
    main()
