# Shared by scripts/*.sh: installing what is missing and building.
# shellcheck shell=bash

KB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KB_JOBS="${KB_JOBS:-$(nproc 2>/dev/null || echo 2)}"

# Debian packages the build, the tests and the demo need.
KB_DEB_PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  libpoco-dev liblua5.4-dev libsqlite3-dev libssl-dev libyaml-cpp-dev libgtest-dev libgmock-dev
  libqrencode-dev
  sqlite3 openssl libxml2-utils curl
  tzdata
)
KB_DEB_BROWSER=(chromium)
KB_DEB_PACKAGING=(lintian dpkg-dev file binutils)
KB_DEB_PACKAGE_TEST=(mmdebstrap)
KB_DEB_BENCH=(wrk sqlite3)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# write_private FILE: writes stdin to FILE readable by its owner only (0600), also when FILE
# exists with a wider mode; through a temporary file, so no reader sees half of it.
write_private() {
  local tmp="$1.tmp.$$"
  ( umask 077 && cat > "$tmp" ) || { rm -f "$tmp"; return 1; }
  chmod 600 "$tmp"
  mv -f "$tmp" "$1"
}

# Installs the named Debian packages that are not installed yet (apt-get, non-interactive).
ensure_packages() {
  local missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null || die "apt-get update failed"
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "could not install: ${missing[*]}"
}

# Node.js and npm for the browser tests: machines may carry them outside dpkg (and then
# Debian's npm package conflicts), so look for the commands first.
ensure_node() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && return 0
  ensure_packages nodejs npm
}

# configure_and_build BUILD_DIR [cmake args...]
# Compiles through ccache when it is installed (KB_CCACHE=0: never), with the checkout as
# its base directory and the build directory left out of the hash, so other checkouts share
# the hits; a cold cache costs little.
configure_and_build() {
  local dir="$1"
  shift
  local launcher=""
  if [ "${KB_CCACHE:-1}" != 0 ] && command -v ccache >/dev/null 2>&1; then
    launcher=ccache
    export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$KB_ROOT}"
    # With -g, ccache hashes the build directory too (it lands in the debug information), so
    # a fresh clone elsewhere missed every file; the objects' DW_AT_comp_dir may then name the
    # checkout that compiled them first, which no test or package check reads.
    export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
  fi
  log "configuring $dir${launcher:+ (ccache)}"
  cmake -S "$KB_ROOT" -B "$dir" -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher" \
    -DCMAKE_C_COMPILER_LAUNCHER="$launcher" "$@" >/dev/null || die "cmake configure failed"
  log "building with $KB_JOBS jobs"
  cmake --build "$dir" -j "$KB_JOBS" || die "build failed"
}

# assemble_plugin_set BUILD_DIR SET_DIR [SKIP_ID...]
# Every plugin of plugins/ as a plugin set (unsigned) in SET_DIR: manifest, schema, README,
# Lua files, migrations, web pages and the built library. The libraries are copied without
# their debug information, as packages ship them: a Debug or RelWithDebInfo build's plugins
# together would pass the set's 64 MiB limit and the whole set be refused.
assemble_plugin_set() {
  local build="$1" set_dir="$2"
  shift 2
  local src id f d so skip
  mkdir -p "$set_dir"
  for src in "$KB_ROOT"/plugins/*/; do
    id="$(basename "$src")"
    [ -f "$src/plugin.yaml" ] || continue
    skip=0
    for f in "$@"; do [ "$id" = "$f" ] && skip=1; done
    [ "$skip" = 1 ] && continue
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
      for so in "$set_dir/$id"/*.so; do
        [ -f "$so" ] && strip --strip-debug "$so"
      done
    fi
  done
  return 0
}
