#!/usr/bin/env bash
# `klinikbox serve` that cannot start says why on standard error (under systemd: the journal,
# next to `status=70/SOFTWARE`), not only in the log file: a port another process holds, and a
# second box on the same data directory. Found by the package test's systemd step, where a
# sandbox-refused bind left only "I/O error: 1" in /var/log/klinikbox/klinikbox.log.
#   serve-start-failure.sh KLINIKBOX_BINARY
set -euo pipefail
bin="$1"
dir="$(mktemp -d)"
holder=""
trap '[ -n "$holder" ] && kill "$holder" 2>/dev/null; rm -rf "$dir"' EXIT
# A listening socket on an ephemeral port, held until the test ends.
mkfifo "$dir/port"
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
open(sys.argv[1], "w").write("%d\n" % s.getsockname()[1]); time.sleep(3600)' "$dir/port" &
holder=$!
read -r port < "$dir/port"
mkdir -p "$dir/data" "$dir/set" "$dir/trust"
cat > "$dir/klinikbox.yaml" <<YAML
box:
  mode: development
  data_dir: $dir/data
server:
  listen: 127.0.0.1
  port: $port
logging:
  file: $dir/klinikbox.log
plugins:
  set: $dir/set
  trust_dir: $dir/trust
YAML
rc=0
timeout 120 "$bin" serve --config "$dir/klinikbox.yaml" > "$dir/out" 2> "$dir/err" || rc=$?
[ "$rc" = 70 ] || { echo "exit $rc, want 70"; cat "$dir/out" "$dir/err"; exit 1; }
grep -q "^klinikbox: cannot start: .*" "$dir/err" || { echo "no reason on stderr:"; cat "$dir/err"; exit 1; }
echo "port taken: $(cat "$dir/err")"
grep -qi "address already in use" "$dir/err" || { echo "the bind error is not named"; exit 1; }

# A second box on the data directory of a running one.
kill "$holder"; wait "$holder" 2>/dev/null || true; holder=""
sed -i "s/port: $port/port: 0/" "$dir/klinikbox.yaml"
"$bin" serve --config "$dir/klinikbox.yaml" > "$dir/first.out" 2>&1 &
holder=$!
for _ in $(seq 240); do grep -q "listening on" "$dir/first.out" && break; sleep 0.5; done
grep -q "listening on" "$dir/first.out" || { echo "the first box did not start"; cat "$dir/first.out"; exit 1; }
rc=0
timeout 120 "$bin" serve --config "$dir/klinikbox.yaml" > "$dir/out" 2> "$dir/err" || rc=$?
[ "$rc" = 70 ] || { echo "second box: exit $rc, want 70"; cat "$dir/err"; exit 1; }
grep -q "^klinikbox: cannot start: a klinikbox is already running on" "$dir/err" || { echo "second box:"; cat "$dir/err"; exit 1; }
echo "second box: $(cat "$dir/err")"
kill "$holder"; wait "$holder" 2>/dev/null || true; holder=""
echo ok
