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

# The plugin set: every plugin of plugins/ with its built library, certified by the demo
# region (DEMO ONLY keys, made into the data directory), so the box runs in production mode.
# KB_DEMO_MODE=development runs the same plugins unsigned instead.
mode="${KB_DEMO_MODE:-production}"
set_dir="$data/pluginset"
rm -rf "$set_dir"
mkdir -p "$set_dir"
for src in "$KB_ROOT"/plugins/*/; do
  id="$(basename "$src")"
  [ -f "$src/plugin.yaml" ] || continue
  mkdir -p "$set_dir/$id"
  for f in plugin.yaml schema.yaml README.md; do
    [ -f "$src/$f" ] && cp "$src/$f" "$set_dir/$id/"
  done
  cp "$src"/*.lua "$set_dir/$id/" 2>/dev/null || true   # a Lua plugin's scripts
  for d in migrations web lua; do
    [ -d "$src/$d" ] && cp -r "$src/$d" "$set_dir/$id/"
  done
  if [ -d "$build/plugins/$id" ]; then
    cp "$build/plugins/$id"/*.so "$set_dir/$id/" 2>/dev/null || true
  fi
done

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

config="$data/klinikbox.yaml"
sed -e "s|@MODE@|$mode|" -e "s|@PORT@|$port|" -e "s|@PLUGIN_SET@|$set_dir|" -e "s|@TRUST_DIR@|$trust_dir|" \
  "$KB_ROOT/config/demo/klinikbox.yaml.in" > "$config"
"$bin" config check --config "$config" >/dev/null

# Demo accounts, created once; the passwords are kept in a private file for re-runs.
login_file="$data/demo-login.txt"
if [ ! -f "$login_file" ]; then
  umask 077
  admin_pw="$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 20)"
  staff_pw="$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 20)"
  printf '%s\n' "$admin_pw" | "$bin" user add --username demo --role admin --name "Demo Admin" \
    --password-stdin --config "$config" >/dev/null
  printf '%s\n' "$staff_pw" | "$bin" user add --username personal --role staff --name "Demo Personal" \
    --hsa-id SE2321000016-D001 --care-unit SE2321000016-DEMO --password-stdin --config "$config" >/dev/null
  printf 'admin: demo / %s\nstaff: personal / %s\n' "$admin_pw" "$staff_pw" > "$login_file"
fi

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  log "demo stopped (data kept in $data)"
}
trap cleanup INT TERM EXIT

log "starting klinikbox"
"$bin" serve --config "$config" > "$data/klinikbox.out" 2>&1 &
pids+=($!)
url=""
for _ in $(seq 1 150); do
  url="$(grep -o 'listening on [^ ]*' "$data/klinikbox.out" | head -n1 | sed 's/listening on //')" || true
  [ -n "$url" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$data/klinikbox.out" >&2; die "klinikbox did not start"; }
  sleep 0.1
done
[ -n "$url" ] || die "klinikbox did not print its URL"
curl -sk --max-time 5 "${url}healthz" >/dev/null || die "the box does not answer /healthz"

cat <<MSG

  Klinikbox demo is running ($mode mode, self-signed certificate).

  Console:   ${url}
  Login:     $(sed -n 1p "$login_file")
             $(sed -n 2p "$login_file")
  Health:    ${url}healthz   ${url}readyz   ${url}metrics
  Data:      $data   (log: $data/klinikbox.out)

  Your browser will warn about the self-signed certificate; its SHA-256 fingerprint is
  printed in the log. Press Ctrl-C to stop.

MSG
wait "${pids[0]}"
