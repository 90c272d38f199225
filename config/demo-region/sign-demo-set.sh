#!/bin/sh
# DEMO ONLY. Certifies a directory of plugins as the demo region would: creates
# pluginset.yaml and signs it with both demo officers (threshold 2).
#   sign-demo-set.sh SETDIR PKIDIR KLINIKBOX [SEQUENCE]
set -eu
set_dir="$1"; pki="$2"; kb="$3"; seq="${4:-1}"
expires="$(date -u -d '+180 days' +%Y-%m-%d)"
rm -f "$set_dir"/pluginset.yaml "$set_dir"/pluginset.yaml.sig.*
"$kb" pluginset create "$set_dir" --name "Demoregionens paket" --sequence "$seq" \
  --region-name "Demoregionen (DEMO)" --region-hsa-id SE2321000016-DEMO --expires "$expires" >/dev/null
"$kb" pluginset sign "$set_dir" --key "$pki/ca/infosec.key" --cert "$pki/ca/infosec.pem" >/dev/null
"$kb" pluginset sign "$set_dir" --key "$pki/ca/medinfo.key" --cert "$pki/ca/medinfo.pem" >/dev/null
"$kb" pluginset verify "$set_dir" --trust "$pki/trust"
