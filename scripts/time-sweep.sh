#!/usr/bin/env bash
# Runs ctest of build/ as if it were another moment, once per moment, under libfaketime
# (Debian's faketime): the box and the tests then both live at that moment while time passes.
# CI runs at any hour on any date; this finds the tests and the code that only hold at some.
#
#   scripts/time-sweep.sh                      the default moments (below), ~3 min each
#   scripts/time-sweep.sh "2027-06-25 23:58"   given moments, Swedish time (date -d syntax)
#
# The default moments, each the next one from today, in Swedish time: 23:58 (midnight passes
# during the run), 00:20 (the UTC date is still yesterday), Christmas Eve 21:00 (three days
# without times follow), and the nights the clocks change (the last Sundays of March and
# October, before the change). Exits non-zero when any run has a failing test.
#
# Not under faketime: scripts.ServeStartFailureSaysWhyOnStderr (Python's socket calls fail
# with EINVAL under the preloaded library). The monotonic clock stays real
# (FAKETIME_DONT_FAKE_MONOTONIC=1): with it shifted, condition-variable waits never end.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

[ -x "$KB_ROOT/build/tests/integration" ] || die "build/ is not built: run scripts/test.sh first"
ensure_packages faketime

if [ "$#" -gt 0 ]; then
  moments=("$@")
else
  mapfile -t moments < <(python3 - <<'EOF'
import datetime as dt
today = dt.date.today()
def next_date(month, day):
    d = dt.date(today.year, month, day)
    return d if d > today else dt.date(today.year + 1, month, day)
def next_last_sunday(month):
    for year in (today.year, today.year + 1):
        d = dt.date(year, month, 31)
        d -= dt.timedelta(days=(d.weekday() + 1) % 7)
        if d > today:
            return d
tomorrow = today + dt.timedelta(days=1)
print(f"{tomorrow} 23:58")
print(f"{tomorrow + dt.timedelta(days=1)} 00:20")
print(f"{next_date(12, 24)} 21:00")
print(f"{next_last_sunday(3)} 01:00")
print(f"{next_last_sunday(10)} 01:30")
EOF
)
fi

failed=0
for moment in "${moments[@]}"; do
  at=$(TZ=Europe/Stockholm date -d "$moment" +%s) || die "not a moment: $moment"
  offset=$((at - $(date +%s)))
  [ "$offset" -ge 0 ] && offset="+$offset"
  out="$KB_ROOT/build/Testing/time-sweep-$(TZ=Europe/Stockholm date -d "@$at" +%Y%m%dT%H%M).log"
  mkdir -p "$(dirname "$out")"
  log "ctest at $(TZ=Europe/Stockholm date -d "@$at" '+%F %R %Z') (log: $out)"
  if (cd "$KB_ROOT/build" && FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "$offset" \
        ctest -j "$KB_JOBS" --timeout 300 -LE 'e2e|bench' -E 'ServeStartFailureSaysWhyOnStderr' >"$out" 2>&1); then
    log "  all passed"
  else
    failed=1
    grep -E '\*\*\*(Failed|Timeout|Exception)' "$out" | sed 's/^/  /' >&2 || true
  fi
done
exit "$failed"
