#!/bin/sh
# The plugin-set tests' PKI, made with the same openssl commands a region uses.
#   make-test-pki.sh OUTDIR LIBDIR
# Region A (threshold 2): a1, a2 valid; a3 without keyUsage; a4 valid for 1 day; a5 revoked.
# Region B (threshold 1): b1. Region C is not trusted: c1.
set -eu
out="$1"
. "$2/pki-lib.sh"
pki_ca "$out/A" "Region A"
pki_signer "$out/A" a1 "A signer one"
pki_signer "$out/A" a2 "A signer two"
pki_signer "$out/A" a3 "A signer without key usage" no_key_usage
pki_signer "$out/A" a4 "A short-lived signer" signer 1
pki_signer "$out/A" a5 "A revoked signer"
pki_revoke "$out/A" a5
pki_ca "$out/B" "Region B"
pki_signer "$out/B" b1 "B signer"
pki_ca "$out/C" "Region C"
pki_signer "$out/C" c1 "C signer"
pki_trust "$out/A" "$out/trust/a" "Region A" SE2321000016-AAAA 2
pki_trust "$out/B" "$out/trust/b" "Region B" SE2321000016-BBBB 1
# A trust directory whose region A requires a CRL but has none installed.
mkdir -p "$out/trust-nocrl/a"
cp "$out/trust/a/root.pem" "$out/trust/a/region.yaml" "$out/trust-nocrl/a/"
