#!/usr/bin/env bash
# scripts/demo.sh writes klinikbox.yaml (which holds secrets) through write_private: the file
# must end up 0600, also when an earlier run left it 0644 (issue 14, item 13).
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib/common.sh"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
umask 022
printf 'old\n' > "$dir/klinikbox.yaml"
chmod 644 "$dir/klinikbox.yaml"
printf 'secret: x\n' | write_private "$dir/klinikbox.yaml"
mode="$(stat -c %a "$dir/klinikbox.yaml")"
[ "$mode" = 600 ] || { echo "mode $mode, want 600"; exit 1; }
[ "$(cat "$dir/klinikbox.yaml")" = "secret: x" ] || { echo "wrong content"; exit 1; }
printf 'new: y\n' | write_private "$dir/fresh.yaml"
[ "$(stat -c %a "$dir/fresh.yaml")" = 600 ] || { echo "fresh file not 600"; exit 1; }
# demo.sh writes its configuration this way.
grep -q 'klinikbox.yaml.in" | write_private "$config"' "$(dirname "$0")/../../scripts/demo.sh" || { echo "demo.sh does not use write_private"; exit 1; }
[ ! -e "$dir"/*.tmp.* ] 2>/dev/null || { echo "temporary file left"; exit 1; }
echo ok
