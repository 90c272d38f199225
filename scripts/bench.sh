#!/usr/bin/env bash
# Benchmarks on loopback with wrk, next to a raw SQLite baseline measured in the same run.
#   scripts/bench.sh [SECONDS]      (default 10 per measurement)
# Measures: GET /healthz (HTTP + TLS floor), POST /api/v1/hello/greetings (the full write
# path: TLS, session, CSRF, role check, strict JSON, a sync hook, an SQLite transaction with
# an outbox message, and the patient-data audit net), raw single-row INSERT transactions
# with the same pragmas, and the box's resident memory while under load.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
secs="${1:-10}"

ensure_packages "${KB_DEB_PACKAGES[@]}" "${KB_DEB_BENCH[@]}"
configure_and_build "$KB_ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
bin="$KB_ROOT/build/bin/klinikbox"

work="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/set/hello"
cp "$KB_ROOT"/plugins/hello/{plugin.yaml,schema.yaml} "$work/set/hello/"
cp -r "$KB_ROOT"/plugins/hello/{migrations,web} "$work/set/hello/"
cp "$KB_ROOT/build/plugins/hello/libhello.so" "$work/set/hello/"
mkdir -p "$work/set/booking" "$work/scripts"
cp "$KB_ROOT"/plugins/booking/{plugin.yaml,schema.yaml} "$work/set/booking/"
cp -r "$KB_ROOT"/plugins/booking/{migrations,web} "$work/set/booking/"
cp "$KB_ROOT/build/plugins/booking/libbooking.so" "$work/set/booking/"
# The clinic's guardian rule runs on every booking.requested, as it would in a clinic.
cp "$KB_ROOT/scripts/examples/guardian.lua" "$work/scripts/"
cat > "$work/klinikbox.yaml" <<YAML
box: {mode: development, data_dir: $work/data}
server: {listen: 127.0.0.1, port: 0, threads: 16}
logging: {level: warning, access_log: false}
plugins: {set: $work/set, settings: {booking: {horizon_days: 400}}}
lua: {scripts_dir: $work/scripts}
YAML
printf 'mätning lösenord 12345\n' | "$bin" user add --username loadtest --role staff --password-stdin --config "$work/klinikbox.yaml" >/dev/null
printf 'mätning lösenord 12345\n' | "$bin" user add --username benchadmin --role admin --password-stdin --config "$work/klinikbox.yaml" >/dev/null
"$bin" serve --config "$work/klinikbox.yaml" > "$work/out" 2>&1 &
pid=$!
url=""
for _ in $(seq 1 100); do
  url="$(grep -o 'listening on [^ ]*' "$work/out" | sed 's/listening on //; s|/$||')" || true
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || die "the box did not start"
login="$(curl -sk -c "$work/cookies" -H 'Content-Type: application/json' \
  -d '{"username":"loadtest","password":"mätning lösenord 12345"}' "$url/api/v1/auth/login")"
csrf="$(printf '%s' "$login" | sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p')"
cookie="$(awk '$6=="kb_session"{print "kb_session=" $7}' "$work/cookies")"
[ -n "$csrf" ] && [ -n "$cookie" ] || die "login failed: $login"

# Booking setup through the API as an admin: one unit, one practitioner, 5-minute slots
# around the clock for 400 days (about 115,000 slots, generated before the measurement).
alogin="$(curl -sk -c "$work/acookies" -H 'Content-Type: application/json' \
  -d '{"username":"benchadmin","password":"mätning lösenord 12345"}' "$url/api/v1/auth/login")"
acsrf="$(printf '%s' "$alogin" | sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p')"
apost() {
  curl -skf -b "$work/acookies" -H 'Content-Type: application/json' -H "X-CSRF-Token: $acsrf" -d "$2" "$url$1" >/dev/null \
    || die "booking setup failed at $1"
}
apost /api/v1/booking/units '{"hsa_id":"SE2321000016-B001","name":"Bänkcentralen","address":"Mätgatan 1"}'
apost /api/v1/booking/practitioners '{"hsa_id":"SE2321000016-B002","name":"Bo Bänk","profession":"läkare","unit":"SE2321000016-B001"}'
apost /api/v1/booking/visittypes '{"id":"b5","name":"Mätbesök","visit_form":"physical","minutes":5,"profession":"läkare"}'
apost /api/v1/booking/schedules '{"practitioner":"SE2321000016-B002","visit_type":"b5","weekdays":[1,2,3,4,5,6,7],"start":"00:00","end":"24:00","valid_from":"2026-01-01","valid_to":"2099-12-31"}'
tomorrow="$(date -d tomorrow +%F)"
curl -skf -b "$work/acookies" "$url/api/v1/booking/availabledates?unit=SE2321000016-B001&to=$(date -d '+399 days' +%F)" >/dev/null
first_slot="$(curl -skf -b "$work/acookies" "$url/api/v1/booking/timeslots?unit=SE2321000016-B001&date=$tomorrow" \
  | grep -o '"slot_id":[0-9]*' | head -n1 | cut -d: -f2)"
[ -n "$first_slot" ] || die "no booking slots were generated"

# Each wrk thread books every second slot from the first free one: no two requests ask for
# the same slot, so every answer should be 201.
cat > "$work/book.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = "$cookie"
wrk.headers["X-CSRF-Token"] = "$csrf"
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
local n = 0
request = function()
  local slot = $first_slot + tid + 2 * n
  n = n + 1
  return wrk.format(nil, nil, nil, '{"slot_id":' .. slot .. ',"patient":"191212121212","reason":"mätning"}')
end
LUA

cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = "$cookie"
wrk.headers["X-CSRF-Token"] = "$csrf"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, '{"name":"patient ' .. n .. '"}')
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.2f %.2f %.2f %d\\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
sed -e '/wrk.method/d' -e '/Content-Type/d' -e '/request = function/,/^end$/d' "$work/post.lua" > "$work/get.lua"
sed -n '/^done = function/,/^end$/p' "$work/post.lua" >> "$work/book.lua"

rss_max=0
sample_rss() {
  while kill -0 "$pid" 2>/dev/null; do
    r=$(awk '/VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${r:-0}" -gt "$(cat "$work/rss" 2>/dev/null || echo 0)" ] && echo "$r" > "$work/rss"
    sleep 0.2
  done
}
echo 0 > "$work/rss"
sample_rss &
rss_idle=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")

run() { wrk -t2 -c16 -d"${secs}s" --latency -s "$2" "$url$1" 2>&1 | awk '/^RESULT/{print $2, $3, $4, $5, $6}'; }
log "GET /healthz for ${secs}s"
read -r h_rps h_p50 h_p95 h_p99 h_err <<<"$(run /healthz "$work/get.lua")"
log "POST /api/v1/hello/greetings for ${secs}s"
read -r p_rps p_p50 p_p95 p_p99 p_err <<<"$(run /api/v1/hello/greetings "$work/post.lua")"
rows=$(sqlite3 "$work/data/klinikbox.db" "SELECT COUNT(*) FROM hello_greetings")
log "POST /api/v1/booking/bookings for ${secs}s"
read -r b_rps b_p50 b_p95 b_p99 b_err <<<"$(run /api/v1/booking/bookings "$work/book.lua")"
brows=$(sqlite3 "$work/data/klinikbox.db" "SELECT COUNT(*) FROM booking_bookings")
baudit=$(sqlite3 "$work/data/klinikbox.db" "SELECT COUNT(*) FROM kb_audit WHERE action='booking.create'")
log "raw SQLite baseline for ${secs}s"
base=$("$KB_ROOT/build/bench/bench_sqlite" "$work/baseline.db" "$secs" 2 | awk '{print $2}')
rss_peak=$(cat "$work/rss")
log "Lua hook costs (bench_lua)"
lua_out=$("$KB_ROOT/build/bench/bench_lua" 1)

cat <<TABLE

klinikbox benchmark ($(nproc) cores, wrk -t2 -c16, ${secs}s each, TLS on loopback)
| measurement                           | req/s or rows/s | p50 ms | p95 ms | p99 ms | errors |
|---------------------------------------|-----------------|--------|--------|--------|--------|
| GET /healthz                          | ${h_rps}             | ${h_p50} | ${h_p95} | ${h_p99} | ${h_err} |
| POST greeting (full write path)       | ${p_rps}             | ${p_p50} | ${p_p95} | ${p_p99} | ${p_err} |
| POST booking (HTTP, Lua hook, SQLite, audit) | ${b_rps}      | ${b_p50} | ${b_p95} | ${b_p99} | ${b_err} |
| raw SQLite INSERT txn (same pragmas)  | ${base}             |        |        |        |        |
rows written by the POST run: ${rows}; bookings: ${brows} (audit records: ${baudit})
box RSS: ${rss_idle} kB idle, ${rss_peak} kB peak under load

Lua (one process, no HTTP): the cost of one hook call, and what a Lua hook adds to
publishing booking.requested on the real event bus (docs/lua-api.md explains each line)
${lua_out}
TABLE
