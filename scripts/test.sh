#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: ctest (unit, integration, fuzz
# corpus replays), the Debian package with lintian, then the browser tests. Exits non-zero on
# any failure. KB_PACKAGE_TEST=1 also runs scripts/package-test.sh (a clean Debian 12, ~4 min).
#
#   scripts/test.sh              the normal build in build/
#   scripts/test.sh --sanitize   the unit and integration tests under ASan+UBSan in build-asan/
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

mode=normal
case "${1:-}" in
  "") ;;
  --sanitize) mode=sanitize ;;
  -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
  *) die "unknown option $1" ;;
esac

ensure_packages "${KB_DEB_PACKAGES[@]}"

if [ "$mode" = sanitize ]; then
  # Line tables (-g1) are all a sanitizer report needs (file:line in every frame) and
  # compile ~18 % faster than full -g; the benchmarks are not run here, so not built.
  configure_and_build "$KB_ROOT/build-asan" -DCMAKE_BUILD_TYPE=Debug -DKB_SANITIZE=ON \
    -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1 -DKB_BUILD_BENCH=OFF
  log "unit and integration tests under ASan+UBSan"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  export LSAN_OPTIONS="suppressions=$KB_ROOT/tests/lsan.supp"
  (cd "$KB_ROOT/build-asan" && ctest --output-on-failure -j "$KB_JOBS" --timeout 300 -LE 'e2e|bench')
  exit 0
fi

# Optimised as shipped, with line tables (-g1) instead of full debug information: a failure's
# backtrace has every file and line, and the build takes a minute less on 2 cores. The
# package built below is for lintian's check only; a release build keeps -g for -dbgsym.
configure_and_build "$KB_ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
log "ctest"
(cd "$KB_ROOT/build" && ctest --output-on-failure -j "$KB_JOBS" --timeout 300)

ensure_packages "${KB_DEB_PACKAGING[@]}"
log "Debian package (lintian clean)"
scripts_out="$(mktemp -d)"
sh "$KB_ROOT/scripts/package.sh" "$KB_ROOT/build" "$scripts_out" >/dev/null
rm -rf "$scripts_out"
if [ "${KB_PACKAGE_TEST:-0}" = 1 ]; then
  ensure_packages "${KB_DEB_PACKAGE_TEST[@]}"
  # KB_PACKAGE_TEST_SYSTEMD=1: also boot the root under systemd (systemd-nspawn).
  if [ "${KB_PACKAGE_TEST_SYSTEMD:-0}" = 1 ]; then ensure_packages systemd-container; fi
  log "package test in a clean Debian 12 (mmdebstrap)"
  sh "$KB_ROOT/scripts/package-test.sh" "$KB_ROOT/build"
fi

if [ -f "$KB_ROOT/tests/e2e/package.json" ]; then
  ensure_packages "${KB_DEB_BROWSER[@]}"
  ensure_node
  log "browser tests (playwright-core + Debian chromium)"
  (
    cd "$KB_ROOT/tests/e2e"
    if [ ! -d node_modules/playwright-core ]; then
      npm ci --no-audit --no-fund --loglevel=error >/dev/null
    fi
    # Each file starts its own box (data directory, ephemeral port) and browser, so two
    # files run at once; their waits are generous for a loaded machine.
    KB_BUILD_DIR="$KB_ROOT/build" node --test --test-concurrency=2 ./*.test.mjs
  )
fi
log "all tests passed"
