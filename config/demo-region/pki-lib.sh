# Functions for a region's small PKI with nothing but the openssl CLI. Sourced by
# make-demo-pki.sh and by the plugin-set tests; docs/region-certification.md shows the same
# commands step by step.
# shellcheck shell=sh

# pki_ca DIR "Region name" : a root CA in DIR (root.key, root.pem, CA database for `openssl ca`).
pki_ca() {
  d="$1"; name="$2"
  mkdir -p "$d/newcerts"
  : > "$d/index.txt"
  echo 1000 > "$d/serial"
  echo 1000 > "$d/crlnumber"
  cat > "$d/ca.cnf" <<CNF
[ ca ]
default_ca = region_ca
[ region_ca ]
dir = $d
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = \$dir/root.pem
private_key = \$dir/root.key
default_md = sha256
policy = policy_any
default_days = 1095
default_crl_days = 3650
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
organizationName = optional
organizationalUnitName = optional
[ signer ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ no_key_usage ]
basicConstraints = critical,CA:FALSE
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/root.key" -out "$d/root.pem" \
    -days 7300 -subj "/O=$name/CN=$name plugin-set root" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  chmod 600 "$d/root.key"
}

# pki_signer CADIR NAME "Common name" [EXTENSION] [DAYS] : a signing certificate NAME.pem, NAME.key.
pki_signer() {
  d="$1"; n="$2"; cn="$3"; ext="${4:-signer}"; days="${5:-1095}"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/$n.key" -out "$d/$n.csr" \
    -subj "/O=Signer/CN=$cn" 2>/dev/null
  openssl ca -batch -config "$d/ca.cnf" -extensions "$ext" -days "$days" -in "$d/$n.csr" -out "$d/$n.pem" -notext 2>/dev/null
  chmod 600 "$d/$n.key"
}

# pki_revoke CADIR NAME : revokes NAME.pem (publish a new CRL afterwards).
pki_revoke() {
  openssl ca -batch -config "$1/ca.cnf" -revoke "$1/$2.pem" 2>/dev/null
}

# pki_crl CADIR OUT [DAYS] : the region's CRL.
pki_crl() {
  openssl ca -batch -config "$1/ca.cnf" -gencrl -crldays "${3:-3650}" -out "$2" 2>/dev/null
}

# pki_trust CADIR TRUSTDIR "Region name" HSA-ID THRESHOLD : the box's trust entry of a region.
pki_trust() {
  mkdir -p "$2"
  cp "$1/root.pem" "$2/root.pem"
  printf 'name: %s\nhsa_id: %s\nthreshold: %s\nrequire_crl: true\n' "$3" "$4" "$5" > "$2/region.yaml"
  pki_crl "$1" "$2/crl.pem"
}
