#!/bin/sh
# DEMO ONLY. Makes the demo region's plugin-certification PKI with the openssl CLI:
#   make-demo-pki.sh OUTDIR
# OUTDIR/ca/                       the demo root CA (root.key, root.pem, openssl ca database)
# OUTDIR/signers/infosec.{key,cert}.pem   information-security officer's signing key and certificate
# OUTDIR/signers/medinfo.{key,cert}.pem   medical-informatics officer's signing key and certificate
# OUTDIR/trust/demo-region/        what a box trusts: region.yaml (threshold 2), root.pem, crl.pem
# The keys are private: OUTDIR must never be inside the repository (demo-data/ and build*/ are
# ignored by git). Running it again keeps the PKI and publishes a fresh CRL.
set -eu
if [ $# -ne 1 ]; then
  echo "usage: make-demo-pki.sh OUTDIR" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
cnf="$here/openssl.cnf"
KB_CA_DIR="$out/ca"
export KB_CA_DIR
trust="$out/trust/demo-region"
region_name="Demoregionen (DEMO)"
region_hsa_id="SE2321000016-DEMO"
umask 077

complete=yes
for f in "$KB_CA_DIR/root.pem" "$out/signers/infosec.cert.pem" "$out/signers/medinfo.cert.pem" "$trust/region.yaml"; do
  [ -f "$f" ] || complete=no
done
if [ "$complete" = no ]; then
  # Nothing, or a PKI of another layout: start over (it is a demo; nothing depends on its keys).
  rm -rf "$KB_CA_DIR" "$out/signers" "$out/trust"
  mkdir -p "$KB_CA_DIR/newcerts" "$out/signers" "$trust"
  : > "$KB_CA_DIR/index.txt"
  echo 1000 > "$KB_CA_DIR/serial"
  echo 1000 > "$KB_CA_DIR/crlnumber"
  openssl req -config "$cnf" -x509 -extensions v3_root -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc \
    -keyout "$KB_CA_DIR/root.key" -out "$KB_CA_DIR/root.pem" -days 3650 \
    -subj "/C=SE/O=$region_name/CN=Demoregionen plugin certification root (DEMO ONLY)" 2>/dev/null
  for who in "infosec:informationssäkerhetsansvarig" "medinfo:medicinsk informatiker"; do
    name="${who%%:*}"
    role="${who#*:}"
    openssl req -config "$cnf" -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc \
      -keyout "$out/signers/$name.key.pem" -out "$KB_CA_DIR/$name.csr" \
      -subj "/C=SE/O=$region_name/CN=Demoregionen $role (DEMO ONLY)" 2>/dev/null
    openssl ca -config "$cnf" -batch -extensions v3_signer -days 1095 -notext \
      -in "$KB_CA_DIR/$name.csr" -out "$out/signers/$name.cert.pem" 2>/dev/null
  done
  printf 'name: %s\nhsa_id: %s\nthreshold: 2\nrequire_crl: true\n' "$region_name" "$region_hsa_id" > "$trust/region.yaml"
  cp "$KB_CA_DIR/root.pem" "$trust/root.pem"
fi

# Publish the CRL, as the region does on a schedule (nothing is revoked in the demo).
openssl ca -config "$cnf" -batch -gencrl -out "$trust/crl.pem.new" 2>/dev/null
mv "$trust/crl.pem.new" "$trust/crl.pem"
echo "demo region PKI in $out (DEMO ONLY): trust directory $out/trust"
