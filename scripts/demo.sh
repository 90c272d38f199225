#!/usr/bin/env bash
# Installs what is missing, builds, prepares a demo data directory and starts the box with
# demo data, then prints the console URL and the demo login. Ctrl-C stops everything.
#
#   scripts/demo.sh [DATA_DIR]      (default: ./demo-data)
#   KB_DEMO_PORT=9443 scripts/demo.sh
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

data="${1:-$KB_ROOT/demo-data}"
port="${KB_DEMO_PORT:-8443}"
build="$KB_ROOT/build"

ensure_packages "${KB_DEB_PACKAGES[@]}"
configure_and_build "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
bin="$build/bin/klinikbox"

mkdir -p "$data"
chmod 700 "$data"
data="$(cd "$data" && pwd)"

# The plugin set: every clinic plugin of plugins/ (not the SDK example hello) with its built library, certified by the demo
# region (DEMO ONLY keys, made into the data directory), so the box runs in production mode.
# KB_DEMO_MODE=development runs the same plugins unsigned instead.
mode="${KB_DEMO_MODE:-production}"
set_dir="$data/pluginset"
rm -rf "$set_dir"
mkdir -p "$set_dir"
assemble_plugin_set "$build" "$set_dir" hello   # hello: the SDK's example, not a clinic plugin

trust_dir=""
if [ "$mode" = production ]; then
  log "certifying the demo plugin set with the demo region's keys (DEMO ONLY)"
  sh "$KB_ROOT/config/demo-region/make-demo-pki.sh" "$data/demo-region" >/dev/null
  seq_file="$data/demo-region/sequence"
  seq=$(( $(cat "$seq_file" 2>/dev/null || echo 0) + 1 ))
  echo "$seq" > "$seq_file"
  sh "$KB_ROOT/config/demo-region/sign-demo-set.sh" "$set_dir" "$data/demo-region" "$bin" "$seq" >/dev/null \
    || die "the demo plugin set could not be certified"
  trust_dir="$data/demo-region/trust"
fi

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  log "demo stopped (data kept in $data)"
}
trap cleanup INT TERM EXIT

# The national services (e-frikort, Swish, BankID, SMS) are the simulator, on loopback.
log "starting the national-services simulator"
mkdir -p "$data/sim"
# Video meetings go to the simulator's stand-in meeting server (/meet/), never to an internet
# host: the join link carries a token. The secret is for this demo only.
demo_meeting_secret="DEMO-ONLY-jitsi-secret-do-not-use-0123456789"
"$build/tests/sim/klinikbox-sim" --state-dir "$data/sim" --meeting-secret "$demo_meeting_secret" \
  > "$data/sim.out" 2> "$data/sim.err" &
pids+=($!)
sim_line=""
for _ in $(seq 1 100); do
  sim_line="$(head -n1 "$data/sim.out" 2>/dev/null || true)"
  [ -n "$sim_line" ] && break
  sleep 0.1
done
[ -n "$sim_line" ] || { cat "$data/sim.err" >&2; die "the simulator did not start"; }
sim_get() { printf '%s' "$sim_line" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
sim_http="$(sim_get http)"; sim_https="$(sim_get https)"

# The clinic's Lua hook scripts: the guardian rule for minors' video visits.
mkdir -p "$data/scripts"
[ -f "$data/scripts/guardian.lua" ] || cp "$KB_ROOT/scripts/examples/guardian.lua" "$data/scripts/"

# The configuration holds secrets (client keys' paths, tokens): owner-only, like the data dir.
config="$data/klinikbox.yaml"
sed -e "s|@MODE@|$mode|" -e "s|@PORT@|$port|g" -e "s|@PLUGIN_SET@|$set_dir|" -e "s|@TRUST_DIR@|$trust_dir|" \
  -e "s|@MEETING_SECRET@|$demo_meeting_secret|g" -e "s|@SIM_HTTP@|$sim_http|g" -e "s|@SIM_HTTPS@|$sim_https|g" -e "s|@SIM_CERT@|$(sim_get client_cert)|g" \
  -e "s|@SIM_KEY@|$(sim_get client_key)|g" -e "s|@SIM_CA@|$(sim_get ca)|g" -e "s|@SCRIPTS_DIR@|$data/scripts|" -e "s|@SIM_DIR@|$data/sim|g" \
  "$KB_ROOT/config/demo/klinikbox.yaml.in" | write_private "$config"
"$bin" config check --config "$config" >/dev/null

# Demo accounts, one per role, created once; the passwords are kept in a private file for
# re-runs (a data directory from an older demo gets the accounts it lacks).
login_file="$data/demo-login.txt"
umask 077
touch "$login_file"
add_demo_user() {  # ROLE USERNAME NAME [EXTRA ARGS...]
  local role="$1" user="$2" name="$3" pw
  shift 3
  grep -q "^$role: " "$login_file" && return 0
  pw="$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 20)"
  printf '%s\n' "$pw" | "$bin" user add --username "$user" --role "$role" --name "$name" \
    --password-stdin --config "$config" "$@" >/dev/null
  printf '%s: %s / %s\n' "$role" "$user" "$pw" >> "$login_file"
}
add_demo_user admin demo "Demo Admin"
add_demo_user staff personal "Demo Personal" --hsa-id SE2321000016-D001 --care-unit SE2321000016-DEMO
add_demo_user auditor granskare "Demo Granskare"
add_demo_user it tekniker "Demo IT-tekniker"
admin_pw="$(sed -n 's/^admin: demo \/ //p' "$login_file")"

log "starting klinikbox"
"$bin" serve --config "$config" > "$data/klinikbox.out" 2>&1 &
box_pid=$!
pids+=("$box_pid")
url=""
for _ in $(seq 1 150); do
  url="$(grep -o 'listening on [^ ]*' "$data/klinikbox.out" | head -n1 | sed 's/listening on //')" || true
  [ -n "$url" ] && break
  kill -0 "$box_pid" 2>/dev/null || { cat "$data/klinikbox.out" >&2; die "klinikbox did not start"; }
  sleep 0.1
done
[ -n "$url" ] || die "klinikbox did not print its URL"
curl -sk --max-time 5 "${url}healthz" >/dev/null || die "the box does not answer /healthz"

log "demo data: schedules, today's bookings, the simulator's patients"
# shellcheck source=lib/demo-seed.sh
source "$KB_ROOT/scripts/lib/demo-seed.sh"
seed_demo "$url" "$admin_pw" "$sim_http" > "$data/demo-seed.txt" \
  || { cat "$data/demo-seed.txt" >&2; die "the demo data could not be created"; }
# Shared journal access: bookings for the simulator's journal patients (scripts/lib/demo-journal.sh).
# shellcheck source=lib/demo-journal.sh
source "$KB_ROOT/scripts/lib/demo-journal.sh"
seed_journal "$url" "$admin_pw" >> "$data/demo-seed.txt" \
  || { cat "$data/demo-seed.txt" >&2; die "the journal demo data could not be created"; }

# Referrals: the simulator's hospital radiology (2.2) and physiotherapy (3.0) in the receiver
# directory; one referral sent to the box from the hospital so the incoming list has one.
producer_url="$(grep -o 'producer listener (mutual TLS) on [^ ]*' "$data/klinikbox.out" | head -n1 | sed 's/.* on //')"
if [ -n "$producer_url" ]; then
  # shellcheck source=lib/demo-referrals.sh
  source "$KB_ROOT/scripts/lib/demo-referrals.sh"
  curl -s --max-time 5 -X POST "$sim_http/sim/api/referral/config" -d "{\"box_url\":\"$producer_url\"}" >/dev/null
  seed_referrals "$url" "$admin_pw" "$sim_http" "$sim_https" \
    >> "$data/demo-seed.txt" 2>&1 || log "the referral demo data could not be created"
fi

cat <<MSG

  Klinikbox demo is running ($mode mode, self-signed certificate).

  Console:   ${url}
  Logins (one per role; Loggkontroll is the auditor's, Skript the IT technician's,
  the day view and Videobesök the staff's, Användare and Tillägg the admin's):
$(sed 's/^/             /' "$login_file")
  Kiosk:     ${url}kiosk   (check-in; first register the browser as an admin on the console page
             Kiosker, then try the personnummer below; without that it asks for the kiosk's code)
  Simulator: ${sim_http}/   (what e-frikort, Swish, BankID and the SMS gateway received)
  Health:    ${url}healthz   ${url}readyz   ${url}metrics
  Data:      $data   (log: $data/klinikbox.out)

$(cat "$data/demo-seed.txt")

  Your browser will warn about the self-signed certificate; its SHA-256 fingerprint is
  printed in the log. Press Ctrl-C to stop.

MSG
wait "$box_pid"
