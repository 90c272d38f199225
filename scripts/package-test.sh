#!/bin/sh
# Proves the Debian package in a clean Debian 12 root (mmdebstrap; needs root and Debian's
# mirror): install the previous version with apt-get, first-run steps, the box as the service
# user with the unit's ExecStart, backup (plain and encrypted), restore (also as root), upgrade
# to this version with real data, remove, purge keeping data (debconf default) and purge
# deleting it. Each step is checked; the first failure stops the test with exit 1.
#   scripts/package-test.sh [BUILD_DIR]
# KB_PREVIOUS_DEB=klinikbox_<old>.deb upgrades from a released package; otherwise the same
# tree is packaged as <version>~prev first. Takes 3-4 minutes (see docs/operations.md).
# KB_PACKAGE_TEST_SYSTEMD=1 also boots the upgraded root under systemd as PID 1
# (systemd-nspawn, from systemd-container) and checks the packaged, hardened units there; the
# step is in scripts/lib/package-test-systemd.sh.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
[ "$(id -u)" = 0 ] || { echo "package-test.sh: needs root (mmdebstrap, chroot)" >&2; exit 2; }
start=$(date +%s)
work="$(mktemp -d /tmp/kb-package-test-XXXXXX)"
chroot_dir="$work/root"
cleanup() {
    [ -f "$work/box.pid" ] && kill "$(cat "$work/box.pid")" 2>/dev/null || true
    [ -f "$work/nspawn.pid" ] && nspawn_stop 2>/dev/null || true
    for m in proc sys dev/pts; do umount "$chroot_dir/$m" 2>/dev/null || true; done
    [ -n "${KB_KEEP_ROOT:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=lib/package-test-systemd.sh
. "$root/scripts/lib/package-test-systemd.sh"
step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
in_root() { chroot "$chroot_dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive sh -ec "$1"; }

step "packages"
upstream="$(sed -n 's/^project(klinikbox VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")"
KB_PACKAGE_VERSION="$upstream-1" sh "$root/scripts/package.sh" "$build" "$work/new" >/dev/null
new="$(ls "$work"/new/klinikbox_*.deb)"
if [ -n "${KB_PREVIOUS_DEB:-}" ]; then
    prev="$KB_PREVIOUS_DEB"
else
    KB_LINTIAN=0 KB_PACKAGE_VERSION="$upstream~prev-1" sh "$root/scripts/package.sh" "$build" "$work/prev" >/dev/null
    prev="$(ls "$work"/prev/klinikbox_*.deb)"
fi

step "clean Debian 12 root (mmdebstrap)"
# KB_PACKAGE_TEST_BASE=FILE.tar keeps the fresh root between runs (made once, then reused).
base="${KB_PACKAGE_TEST_BASE:-$work/base.tar}"
if [ ! -s "$base" ]; then
    include=ca-certificates,curl,openssl
    [ "${KB_PACKAGE_TEST_SYSTEMD:-0}" = 1 ] && include="$include,systemd,systemd-sysv,dbus"
    mmdebstrap --quiet --variant=apt --include="$include" bookworm "$base" \
        http://deb.debian.org/debian >/dev/null
fi
mkdir -p "$chroot_dir"
tar -C "$chroot_dir" -xf "$base"
mount -t proc proc "$chroot_dir/proc"
mount -t sysfs sys "$chroot_dir/sys"
cp /etc/resolv.conf "$chroot_dir/etc/resolv.conf"
chroot "$chroot_dir" apt-get update -q >/dev/null   # mmdebstrap leaves no package lists
cp "$prev" "$chroot_dir/tmp/prev.deb"
cp "$new" "$chroot_dir/tmp/klinikbox_new.deb"

step "apt-get install ./<previous>.deb"
in_root 'apt-get install -y -q ./tmp/prev.deb >/tmp/install.log 2>&1 || { cat /tmp/install.log; exit 1; }'
in_root 'getent passwd klinikbox | grep -q ":/var/lib/klinikbox:/usr/sbin/nologin$"' || fail "no klinikbox system user"
in_root '[ "$(stat -c %U:%G:%a /var/lib/klinikbox)" = klinikbox:klinikbox:750 ]' || fail "state dir"
in_root '[ "$(stat -c %U:%G:%a /var/log/klinikbox)" = klinikbox:klinikbox:750 ]' || fail "log dir"
in_root '[ "$(stat -c %U:%G:%a /var/backups/klinikbox)" = klinikbox:klinikbox:700 ]' || fail "backup dir"
in_root '[ -d /etc/klinikbox/trust ] && [ "$(stat -c %G:%a /etc/klinikbox/klinikbox.yaml)" = klinikbox:640 ]' || fail "conffile"
in_root 'dpkg-query -W -f="\${Conffiles}" klinikbox | grep -q /etc/klinikbox/klinikbox.yaml' || fail "not a conffile"
in_root 'ls /usr/lib/klinikbox/plugins/booking/libbooking.so /usr/lib/klinikbox/plugins/vardkontakter/plugin.yaml >/dev/null' \
    || fail "shipped plugins missing"
in_root '[ -L /etc/systemd/system/multi-user.target.wants/klinikbox.service ] \
         && [ -L /etc/systemd/system/timers.target.wants/klinikbox-backup.timer ]' \
    || fail "units not enabled"

step "first run: config check"
in_root 'klinikbox config check 2>/tmp/check.err; grep -q "WARNING: .*plugins.set" /tmp/check.err' \
    || fail "config check does not warn about the missing plugin set"
in_root 'sed "s|trust_dir: /etc/klinikbox/trust|trust_dir: /etc/klinikbox/nowhere|" /etc/klinikbox/klinikbox.yaml > /tmp/bad.yaml
         chmod 644 /tmp/bad.yaml; ! klinikbox config check --config /tmp/bad.yaml' || fail "config check accepts a missing trust_dir"
# The evaluation set-up of docs/operations.md: the shipped plugins, unsigned, on a test port.
in_root 'sed -i -e "s|mode: production|mode: development|" -e "s|set: /var/lib/klinikbox/pluginset/active|set: /usr/lib/klinikbox/plugins|" \
           -e "s|port: 8443|port: 18443|" -e "s|listen: 0.0.0.0|listen: 127.0.0.1|" /etc/klinikbox/klinikbox.yaml
         klinikbox config check'

step "the box as the service user with the unit's ExecStart"
exec_start="$(sed -n 's/^ExecStart=//p' "$chroot_dir/lib/systemd/system/klinikbox.service")"
chroot "$chroot_dir" setpriv --reuid=klinikbox --regid=klinikbox --init-groups -- sh -c "umask 0027; exec $exec_start" \
    > "$work/box.out" 2>&1 &
echo $! > "$work/box.pid"
ready() {
    i=0
    while [ $i -lt 120 ]; do
        curl -sk https://127.0.0.1:18443/readyz > "$work/readyz.json" 2>/dev/null && return 0
        i=$((i + 1)); sleep 1
    done
    cat "$work/box.out" >&2; return 1
}
stop_box() { kill "$(cat "$work/box.pid")"; wait "$(cat "$work/box.pid")" || true; rm -f "$work/box.pid"; }
ready || fail "the box did not answer /readyz"
grep -q '"database" *: *"ok"' "$work/readyz.json" || fail "readyz: $(cat "$work/readyz.json")"
for p in booking checkin efrikort video vardkontakter; do
    grep -q "\"id\" *: *\"$p\"" "$work/readyz.json" || fail "plugin $p not loaded: $(cat "$work/readyz.json")"
done
grep -q "setup.html#token=" "$work/box.out" || fail "no setup link at first start"
grep -q "setup.html#token=" "$chroot_dir/var/log/klinikbox/klinikbox.log" || fail "setup link not in the log file"

step "setup-link on the chosen host name, then the first-run wizard's API, ending with the first admin"
in_root 'klinikbox setup-link --host box.klinik.example' > "$work/link.out" || fail "setup-link"
grep -q "https://box.klinik.example:18443/setup.html#token=" "$work/link.out" || fail "setup-link: $(cat "$work/link.out")"
in_root 'grep -q "box.klinik.example:18443/setup.html" /var/log/klinikbox/klinikbox.log' || fail "setup-link not logged"
token="$(sed -n 's/.*#token=\([A-Za-z0-9_-]*\).*/\1/p' "$work/link.out")"
# wizard ROUTE JSON-FIELDS: POSTs {"token": ..., FIELDS} and prints the HTTP status, then the body.
wizard() {
    curl -sk -o "$work/wizard.json" -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "{\"token\":\"$token\"${2:+,$2}}" "https://127.0.0.1:18443/api/v1/$1"
}
served_fingerprint() {
    in_root 'openssl s_client -connect 127.0.0.1:18443 </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256' | sed 's/.*=//'
}
[ "$(wizard setup/status)" = 200 ] && grep -q '"next" *: *"clinic"' "$work/wizard.json" || fail "wizard status: $(cat "$work/wizard.json")"
[ "$(curl -sk -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"token":"wrong"}' \
    https://127.0.0.1:18443/api/v1/setup/status)" = 401 ] || fail "wizard accepts a wrong token"
[ "$(wizard setup/clinic '"name":"Vårdcentralen Exempel","hsa_id":"SE123"')" = 400 ] || fail "wizard accepts a bad HSA-id"
[ "$(wizard setup/clinic '"name":"Vårdcentralen Exempel","hsa_id":"SE2321000016-15CQ"')" = 200 ] \
    || fail "wizard clinic: $(cat "$work/wizard.json")"
before="$(served_fingerprint)"
[ "$(wizard setup/hosts '"names":["box.klinik.example","127.0.0.1"]')" = 200 ] || fail "wizard hosts: $(cat "$work/wizard.json")"
grep -q '"public_url" *: *"https://box.klinik.example:18443"' "$work/wizard.json" || fail "public URL: $(cat "$work/wizard.json")"
after="$(served_fingerprint)"
[ -n "$after" ] && [ "$after" != "$before" ] && grep -q "\"$after\"" "$work/wizard.json" \
    || fail "the new certificate is not served without a restart ($before -> $after): $(cat "$work/wizard.json")"
kill -0 "$(cat "$work/box.pid")" || fail "the box stopped"
[ "$(wizard setup/trust '"skip":true')" = 200 ] && grep -q '"next" *: *"admin"' "$work/wizard.json" \
    || fail "wizard trust: $(cat "$work/wizard.json")"
[ "$(wizard auth/setup '"username":"anna","password":"Vårdcentral-2026-långt"')" = 201 ] \
    || fail "wizard admin: $(cat "$work/wizard.json")"
[ "$(wizard setup/status)" = 409 ] || fail "the wizard is still open after the first admin"
in_root 'klinikbox setup-link' >/dev/null 2>&1 && fail "setup-link once an account exists"
in_root '[ "$(stat -c %U /var/lib/klinikbox/klinikbox.db)" = klinikbox ]' || fail "database not owned by klinikbox"

step "backup (nightly script, then encrypted to the clinic's certificate)"
in_root 'setpriv --reuid=klinikbox --regid=klinikbox --init-groups -- /usr/lib/klinikbox/klinikbox-backup nightly > /tmp/b1'
in_root 'f=$(cat /tmp/b1); [ "$(stat -c %U:%a "$f")" = klinikbox:600 ] && tar -tf "$f" | grep -q audit.key' \
    || fail "plain backup"
in_root 'openssl req -x509 -newkey rsa:3072 -nodes -subj /CN=clinic-backup -days 3650 -keyout /root/clinic.key \
           -out /etc/klinikbox/backup-recipient.pem 2>/dev/null
         setpriv --reuid=klinikbox --regid=klinikbox --init-groups -- /usr/lib/klinikbox/klinikbox-backup nightly > /tmp/b2
         f=$(cat /tmp/b2); case "$f" in *.tar.cms) ;; *) exit 1 ;; esac
         ! tar -tf "$f" 2>/dev/null
         openssl cms -decrypt -binary -inform DER -in "$f" -inkey /root/clinic.key -out /tmp/restored.tar
         mkdir -p /tmp/r && tar -C /tmp/r -xf /tmp/restored.tar && cmp /tmp/r/audit.key /var/lib/klinikbox/audit.key' \
    || fail "encrypted backup"
in_root 'for i in 1 2 3; do KLINIKBOX_BACKUP_KEEP=2 setpriv --reuid=klinikbox --regid=klinikbox --init-groups -- \
           /usr/lib/klinikbox/klinikbox-backup nightly >/dev/null; done
         [ "$(ls /var/backups/klinikbox/klinikbox-*-nightly.tar* | wc -l)" = 2 ]' || fail "retention"

step "restore (box stopped; run by root with the binary itself, not the wrapper)"
in_root '! klinikbox restore /tmp/r/klinikbox.db' || fail "restore while the box runs"
stop_box
in_root 'echo "Mottagning-2026-långt" | klinikbox user add --username bo --role staff --password-stdin >/dev/null
         cp /tmp/r/klinikbox.db /tmp/r/from-backup.db
         /usr/lib/klinikbox/bin/klinikbox restore /tmp/r/from-backup.db
         [ "$(stat -c %U:%a /var/lib/klinikbox/klinikbox.db)" = klinikbox:600 ]
         klinikbox user list | grep -q "^anna" && ! klinikbox user list | grep -q "^bo"
         ! klinikbox audit verify >/dev/null
         klinikbox audit re-anchor --reason "package test: restored the backup taken before bo" >/dev/null
         klinikbox audit verify >/dev/null' || fail "restore"

step "upgrade to this version with real data"
in_root 'apt-get install -y -q -o Dpkg::Options::=--force-confold ./tmp/klinikbox_new.deb >/tmp/upgrade.log 2>&1 \
           || { cat /tmp/upgrade.log; exit 1; }'
in_root "dpkg-query -W -f='\${Version}' klinikbox | grep -qx '$upstream-1'" || fail "not upgraded"
in_root 'ls -d /var/backups/klinikbox/pre-upgrade-*/klinikbox.db >/dev/null && [ ! -e /var/lib/klinikbox/.pre-upgrade-backup ]' \
    || fail "no backup before the upgrade"
in_root 'klinikbox user list | grep -q "^anna" && klinikbox audit verify >/dev/null' || fail "data after upgrade"
chroot "$chroot_dir" setpriv --reuid=klinikbox --regid=klinikbox --init-groups -- sh -c "exec $exec_start" \
    > "$work/box.out" 2>&1 &
echo $! > "$work/box.pid"
ready || fail "the upgraded box did not start"
stop_box

if [ "${KB_PACKAGE_TEST_SYSTEMD:-0}" = 1 ]; then
    systemd_step
fi

step "failed migration during an upgrade: backup restored, box stopped, rollback explained"
# A core migration whose recorded checksum differs is refused by `klinikbox migrate`, as a
# broken migration of a new version would be; a reinstall runs the same upgrade scripts.
cat > "$chroot_dir/tmp/tamper.sql" <<'SQL'
UPDATE kb_migrations SET checksum = 'tampered:' || checksum
 WHERE owner = 'core' AND version = (SELECT MAX(version) FROM kb_migrations WHERE owner = 'core');
SQL
cat > "$chroot_dir/tmp/untamper.sql" <<'SQL'
UPDATE kb_migrations SET checksum = substr(checksum, 10) WHERE checksum LIKE 'tampered:%';
SQL
in_root 'apt-get install -y -q sqlite3 >/dev/null 2>&1
         setpriv --reuid=klinikbox --regid=klinikbox --init-groups sqlite3 /var/lib/klinikbox/klinikbox.db < /tmp/tamper.sql
         ! apt-get install -y -q --reinstall ./tmp/klinikbox_new.deb > /tmp/failed.log 2>&1
         grep -q "migration to .* FAILED" /tmp/failed.log
         grep -q "restoring the backup taken before the upgrade" /tmp/failed.log
         grep -q "To roll the package back" /tmp/failed.log
         [ "$(dpkg-query -W -f="\${db:Status-Status}" klinikbox)" != installed ]
         [ "$(stat -c %U /var/lib/klinikbox/klinikbox.db)" = klinikbox ]
         setpriv --reuid=klinikbox --regid=klinikbox --init-groups sqlite3 /var/lib/klinikbox/klinikbox.db < /tmp/untamper.sql
         dpkg --configure -a >/dev/null 2>&1
         [ "$(dpkg-query -W -f="\${db:Status-Status}" klinikbox)" = installed ]
         klinikbox user list | grep -q "^anna"' || { cat "$chroot_dir/tmp/failed.log" >&2; fail "failed migration"; }

step "remove, purge (debconf default keeps data), purge deleting data"
in_root 'apt-get remove -y -q klinikbox >/dev/null 2>&1; [ ! -e /usr/bin/klinikbox ] && [ -f /var/lib/klinikbox/klinikbox.db ]' \
    || fail "remove"
in_root 'apt-get purge -y -q klinikbox >/dev/null 2>&1; [ ! -e /etc/klinikbox/klinikbox.yaml ] && [ -f /var/lib/klinikbox/klinikbox.db ] \
           && getent passwd klinikbox >/dev/null' || fail "purge must keep the data by default"
in_root 'apt-get install -y -q ./tmp/klinikbox_new.deb >/dev/null 2>&1
         echo "klinikbox klinikbox/purge-data boolean true" | debconf-set-selections
         apt-get purge -y -q klinikbox >/dev/null 2>&1
         [ ! -e /var/lib/klinikbox ] && [ ! -e /var/log/klinikbox ] && [ ! -e /var/backups/klinikbox ] && ! getent passwd klinikbox' \
    || fail "purge after yes must delete data and user"

echo "package-test: all steps passed in $(($(date +%s) - start)) s"
