#!/bin/sh
# Builds klinikbox_<version>_<arch>.deb and klinikbox-dbgsym_<version>_<arch>.deb from a build
# tree (cmake --build BUILD first) with dpkg-deb from a staged tree, so the maintainer scripts,
# conffiles and debconf templates are exactly those in installer/debian/. Binaries are
# stripped; their debug symbols go into the -dbgsym package (/usr/lib/debug/.build-id).
# Then lintian checks both packages (KB_LINTIAN=0 skips it); any error or warning fails.
#   scripts/package.sh [BUILD_DIR] [OUT_DIR]      KB_PACKAGE_VERSION=0.1.0-1 overrides the version
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
out="${2:-$build}"
mkdir -p "$out"; out="$(cd "$out" && pwd)"
upstream="$(sed -n 's/^project(klinikbox VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")"
version="${KB_PACKAGE_VERSION:-$upstream-1}"
arch="$(dpkg --print-architecture)"
deb="$root/installer/debian"
[ -x "$build/bin/klinikbox" ] || { echo "package.sh: build $build/bin/klinikbox first" >&2; exit 1; }

work="$(mktemp -d)"
trap '[ -n "${KB_KEEP_STAGE:-}" ] || rm -rf "$work"' EXIT
stage="$work/klinikbox"
dbg="$work/klinikbox-dbgsym"
umask 022

# The files CMake installs (binary, SDK library, console, docs, example config, unit).
DESTDIR="$stage" cmake --install "$build" --prefix /usr >/dev/null
mkdir -p "$stage/lib/systemd/system"
mv "$stage/usr/lib/systemd/system/klinikbox.service" "$stage/lib/systemd/system/"
rm -rf "$stage/usr/lib/systemd"
install -m 0644 "$root/installer/klinikbox-backup.service" "$root/installer/klinikbox-backup.timer" \
    "$stage/lib/systemd/system/"
install -D -m 0755 "$root/installer/klinikbox-wrapper.sh" "$stage/usr/bin/klinikbox"
install -D -m 0755 "$root/installer/klinikbox-backup.sh" "$stage/usr/lib/klinikbox/klinikbox-backup"
install -D -m 0644 "$root/installer/klinikbox.default" "$stage/etc/default/klinikbox"
install -D -m 0644 "$root/config/klinikbox.yaml" "$stage/etc/klinikbox/klinikbox.yaml"
install -d "$stage/usr/share/man/man1"
gzip -9n -c "$root/installer/klinikbox.1" > "$stage/usr/share/man/man1/klinikbox.1.gz"

# The shipped plugins, one directory each, as the region's set lays them out.
for src in "$root"/plugins/*/; do
    id="$(basename "$src")"
    [ -f "$src/plugin.yaml" ] || continue
    [ "$id" = hello ] && continue   # the SDK's example, not a clinic plugin
    dst="$stage/usr/lib/klinikbox/plugins/$id"
    install -d "$dst"
    for f in plugin.yaml schema.yaml README.md; do
        [ -f "$src/$f" ] && install -m 0644 "$src/$f" "$dst/"
    done
    for f in "$src"/*.lua; do [ -f "$f" ] && install -m 0644 "$f" "$dst/"; done
    for d in migrations web lua; do [ -d "$src/$d" ] && cp -r "$src/$d" "$dst/"; done
    for f in "$build/plugins/$id"/*.so; do [ -f "$f" ] && install -m 0644 "$f" "$dst/"; done
done

# Documentation the Debian way.
doc="$stage/usr/share/doc/klinikbox"
install -m 0644 "$deb/copyright" "$doc/copyright"
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)}")/" \
    "$deb/changelog.in" | gzip -9n > "$doc/changelog.Debian.gz"

# Strip, keeping the debug symbols by build id.
buildids=""
for f in $(find "$stage" -type f \( -name '*.so' -o -name '*.so.*' -o -perm -u+x \)); do
    file -b "$f" | grep -q '^ELF' || continue
    id="$(readelf -n "$f" | sed -n 's/^ *Build ID: *//p')"
    [ -n "$id" ] || { echo "package.sh: $f has no build id" >&2; exit 1; }
    d="$dbg/usr/lib/debug/.build-id/$(echo "$id" | cut -c1-2)"
    install -d "$d"
    objcopy --only-keep-debug --compress-debug-sections "$f" "$d/$(echo "$id" | cut -c3-).debug"
    chmod 0644 "$d/$(echo "$id" | cut -c3-).debug"
    strip --remove-section=.comment --remove-section=.note --strip-unneeded "$f"
    buildids="$buildids $id"
done
find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -type f ! -perm -u+x -exec chmod 0644 {} +

# Control files.
dpkg_control() {  # $1 = package tree, $2 = control template, $3 = depends
    install -d -m 0755 "$1/DEBIAN"
    size="$(du -k -s --exclude=DEBIAN "$1" | cut -f1)"
    sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$3/" \
        -e "s/@BUILDIDS@/$(echo $buildids)/" "$2" > "$1/DEBIAN/control"
    (cd "$1" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$1/DEBIAN/md5sums"
    chmod 0644 "$1/DEBIAN/control" "$1/DEBIAN/md5sums"
}
# Library dependencies of the binary and plugins (the SDK library is inside the package).
mkdir -p "$work/src/debian"
printf 'Source: klinikbox\n\nPackage: klinikbox\nArchitecture: any\n' > "$work/src/debian/control"
elfs="$(for f in $(find "$stage/usr/lib/klinikbox" -type f); do file -b "$f" | grep -q '^ELF' && echo "$f"; done)"
shlibs="$(cd "$work/src" && dpkg-shlibdeps -O --ignore-missing-info -l"$stage/usr/lib/klinikbox/lib/klinikbox" $elfs 2>"$work/shlibdeps.err" \
    | sed -n 's/^shlibs:Depends=//p')"
[ -n "$shlibs" ] || { echo "package.sh: dpkg-shlibdeps found no dependencies" >&2; cat "$work/shlibdeps.err" >&2; exit 1; }
dpkg_control "$stage" "$deb/control.in" "$shlibs"
for s in preinst postinst prerm postrm config; do install -m 0755 "$deb/$s" "$stage/DEBIAN/$s"; done
install -m 0644 "$deb/templates" "$deb/conffiles" "$stage/DEBIAN/"
dpkg_control "$dbg" "$deb/control-dbgsym.in" ""
install -d "$dbg/usr/share/doc"
ln -s klinikbox "$dbg/usr/share/doc/klinikbox-dbgsym"

main="$out/klinikbox_${version}_$arch.deb"
dbgdeb="$out/klinikbox-dbgsym_${version}_$arch.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$main" >/dev/null
# The .debug files are compressed already (objcopy --compress-debug-sections): xz over them
# took 15 s of a 50 s packaging to make the package 0.1 % smaller than gzip does in 1 s.
dpkg-deb --root-owner-group -Zgzip --build "$dbg" "$dbgdeb" >/dev/null
echo "$main"
echo "$dbgdeb"
if [ "${KB_LINTIAN:-1}" != 0 ]; then
    # The unit's sandbox must keep systemd's exposure score at or below 2.0 (it is 1.2).
    systemd-analyze security --offline=true --threshold=20 "$stage/lib/systemd/system/klinikbox.service" >/dev/null \
        || { echo "package.sh: klinikbox.service scores above 2.0 in systemd-analyze security" >&2; exit 1; }
    # --fail-on warning: a maintainer would not accept warnings either. Overrides, if any,
    # are in installer/debian/lintian-overrides with the reason for each.
    lintian --fail-on error,warning --suppress-tags-from-file "$deb/lintian-overrides" "$main" "$dbgdeb" >&2
fi
