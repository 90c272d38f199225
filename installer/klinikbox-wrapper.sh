#!/bin/sh
# /usr/bin/klinikbox: runs klinikbox commands as the service user, so that files they write
# (database, backups, audit key, logs) stay owned by klinikbox and the box can use them.
# Root is switched to klinikbox with setpriv; other users run the binary as themselves.
set -e
bin=/usr/lib/klinikbox/bin/klinikbox
if [ "$(id -u)" = 0 ]; then
    if ! getent passwd klinikbox >/dev/null; then
        echo "klinikbox: the klinikbox system user is missing (reinstall the package)" >&2
        exit 1
    fi
    exec setpriv --reuid=klinikbox --regid=klinikbox --init-groups --inh-caps=-all -- "$bin" "$@"
fi
exec "$bin" "$@"
