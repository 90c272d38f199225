#!/bin/sh
# klinikbox-backup: one backup of the box (database + audit key) into KLINIKBOX_BACKUP_DIR,
# encrypted to the clinic's certificate when one is configured, keeping the newest
# KLINIKBOX_BACKUP_KEEP. Run by klinikbox-backup.timer (nightly) as the klinikbox user, and
# by the package before an upgrade. Settings: /etc/default/klinikbox.
set -eu
[ -r /etc/default/klinikbox ] && . /etc/default/klinikbox
dir="${KLINIKBOX_BACKUP_DIR:-/var/backups/klinikbox}"
keep="${KLINIKBOX_BACKUP_KEEP:-14}"
recipient="${KLINIKBOX_BACKUP_RECIPIENT:-/etc/klinikbox/backup-recipient.pem}"
config="${KLINIKBOX_CONFIG:-/etc/klinikbox/klinikbox.yaml}"
label="${1:-nightly}"
bin=/usr/lib/klinikbox/bin/klinikbox

case "$keep" in ''|*[!0-9]*) echo "klinikbox-backup: KLINIKBOX_BACKUP_KEEP must be a number" >&2; exit 2 ;; esac
umask 077
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
name="klinikbox-$stamp-$label"
work="$(mktemp -d "$dir/.work-XXXXXX")"
trap 'rm -rf "$work"' EXIT
"$bin" backup "$work/klinikbox.db" --config "$config" >/dev/null
datadir="$(sed -n 's/^[[:space:]]*data_dir:[[:space:]]*//p' "$config" | head -n1 | tr -d '"')"
datadir="${datadir:-/var/lib/klinikbox}"
cp "$datadir/audit.key" "$work/audit.key"
tar -C "$work" -cf "$work/$name.tar" klinikbox.db audit.key
if [ -r "$recipient" ]; then
    # CMS envelope (AES-256) to the clinic's certificate; only its private key opens it.
    openssl cms -encrypt -binary -aes256 -outform DER -in "$work/$name.tar" -out "$work/$name.tar.cms" "$recipient"
    mv "$work/$name.tar.cms" "$dir/"
    out="$dir/$name.tar.cms"
else
    mv "$work/$name.tar" "$dir/"
    out="$dir/$name.tar"
fi
chmod 0600 "$out"
# Retention: the newest $keep of this label; pre-upgrade backups are kept separately.
ls -1t "$dir"/klinikbox-*-"$label".tar* 2>/dev/null | tail -n +"$((keep + 1))" | while read -r old; do
    rm -f -- "$old"
done
echo "$out"
