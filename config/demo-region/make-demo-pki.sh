#!/bin/sh
# DEMO ONLY. Creates a demo region's PKI into OUTDIR (never into the repository: the keys
# are private): a root CA, two signing certificates (information-security officer and
# medical-informatics officer), an empty CRL, and the box's trust entry (threshold 2).
#   make-demo-pki.sh OUTDIR
set -eu
out="$1"
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/pki-lib.sh"
[ -f "$out/ca/root.pem" ] && exit 0   # already made
mkdir -p "$out"
pki_ca "$out/ca" "Demoregionen"
pki_signer "$out/ca" infosec "Demoregionen informationssakerhetsansvarig"
pki_signer "$out/ca" medinfo "Demoregionen medicinsk informatiker"
pki_trust "$out/ca" "$out/trust/demoregionen" "Demoregionen (DEMO)" SE2321000016-DEMO 2
echo "demo PKI in $out (DEMO ONLY)"
