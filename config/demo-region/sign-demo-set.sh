#!/bin/sh
# DEMO ONLY. Certifies plugins as the demo region would: `klinikbox pluginset create`, then
# `sign` by both demo officers (the demo region's threshold is 2), then `verify`.
#
#   sign-demo-set.sh PLUGINDIR OUTDIR PKIDIR KLINIKBOX_BIN [SEQUENCE]
#       copies every plugin directory of PLUGINDIR (<id>/plugin.yaml ...) into a fresh OUTDIR
#       and certifies OUTDIR
#   sign-demo-set.sh SETDIR PKIDIR KLINIKBOX_BIN [SEQUENCE]
#       certifies SETDIR in place, replacing an earlier manifest and its signatures
#
# PKIDIR is what make-demo-pki.sh made. SEQUENCE defaults to 1; a box refuses a set with a
# lower sequence than one it accepted before, so raise it for every new set. SEQUENCE "auto"
# takes the current time in seconds since 1970, which grows with every build (for signing
# at build time, where nothing keeps a counter).
set -eu
if [ $# -ge 4 ] && [ -d "$3" ]; then
  plugins="$1"; set_dir="$2"; pki="$3"; kb="$4"; seq="${5:-1}"
  [ -d "$plugins" ] || { echo "sign-demo-set.sh: $plugins is not a directory" >&2; exit 2; }
  rm -rf "$set_dir"
  mkdir -p "$set_dir"
  for src in "$plugins"/*/; do
    id="$(basename "$src")"
    if [ ! -f "$src/plugin.yaml" ]; then
      echo "sign-demo-set.sh: $src has no plugin.yaml; not part of the set" >&2
      continue
    fi
    cp -R "$src" "$set_dir/$id"
  done
elif [ $# -ge 3 ] && [ $# -le 4 ]; then
  set_dir="$1"; pki="$2"; kb="$3"; seq="${4:-1}"
  rm -f "$set_dir"/pluginset.yaml "$set_dir"/pluginset.yaml.sig.*
else
  echo "usage: sign-demo-set.sh PLUGINDIR OUTDIR PKIDIR KLINIKBOX_BIN [SEQUENCE]" >&2
  echo "       sign-demo-set.sh SETDIR PKIDIR KLINIKBOX_BIN [SEQUENCE]" >&2
  exit 2
fi
if [ "$seq" = auto ]; then
  seq="$(date -u +%s)"
fi
[ -f "$pki/trust/demo-region/region.yaml" ] || { echo "sign-demo-set.sh: run make-demo-pki.sh $pki first" >&2; exit 2; }

expires="$(date -u -d '+180 days' +%Y-%m-%d)"
"$kb" pluginset create "$set_dir" --name "Demoregionens plugin-paket (DEMO)" --sequence "$seq" \
  --region-name "Demoregionen (DEMO)" --region-hsa-id SE2321000016-DEMO --expires "$expires"
for who in infosec medinfo; do
  "$kb" pluginset sign "$set_dir" --key "$pki/signers/$who.key.pem" --cert "$pki/signers/$who.cert.pem"
done
"$kb" pluginset verify "$set_dir" --trust "$pki/trust"
