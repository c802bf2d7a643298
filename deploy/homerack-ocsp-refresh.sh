#!/usr/bin/env bash
# Fetches a fresh OCSP response for a certificate and puts it, checked, where the edge's
# `ocsp_response` points (docs/TLS.md, "OCSP stapling"). The edge does not fetch responses
# itself: it re-reads this file every `ocsp_refresh` (default 1h) and on SIGHUP.
#
#   homerack-ocsp-refresh.sh --cert /etc/letsencrypt/live/NAME/fullchain.pem \
#       --out /var/lib/homerack-ocsp/NAME.der [--url URL] [--ca-file BUNDLE] [--reload]
#
# --cert     the certificate chain the edge serves, leaf first, then its issuer (fullchain.pem)
# --out      the response file (DER); replaced by a rename only when the new response verifies
#            and names the certificate, so the edge never reads a half-written or bad file
# --url      the CA's OCSP responder; default: the one in the certificate (Authority Information
#            Access)
# --ca-file  trusted roots to verify the response's signature (default: Debian's bundle,
#            /etc/ssl/certs/ca-certificates.crt)
# --reload   `systemctl reload homerack-edge` afterwards, so the new response is stapled at
#            once rather than at the edge's next look
#
# Exit codes: 0 a "good" response written; 1 failed (the previous file is kept, and the edge
# keeps stapling it until its nextUpdate); 2 the response says REVOKED (written: it is the
# truth, replace the certificate); 3 the certificate names no OCSP responder (nothing to do:
# remove ocsp_response from the edge's configuration); 64 usage.
set -euo pipefail

cert="" out="" url="" ca_file=/etc/ssl/certs/ca-certificates.crt reload=0
usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64; }
while (($#)); do
  case "$1" in
    --cert) cert=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --url) url=${2:?}; shift 2 ;;
    --ca-file) ca_file=${2:?}; shift 2 ;;
    --reload) reload=1; shift ;;
    -h|--help) usage ;;
    *) echo "homerack-ocsp-refresh: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ -n $cert && -n $out ]] || usage
[[ -r $cert ]] || { echo "homerack-ocsp-refresh: cannot read the certificate chain $cert" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The chain file's first certificate is the leaf, the second its issuer.
awk -v dir="$work" '/-----BEGIN CERTIFICATE-----/ { n++ } n { print > (dir "/cert" n ".pem") }' "$cert"
if [[ ! -s $work/cert1.pem || ! -s $work/cert2.pem ]]; then
  echo "homerack-ocsp-refresh: $cert must hold the certificate then its issuer (use fullchain.pem, not cert.pem)" >&2
  exit 1
fi
if [[ -z $url ]]; then
  url=$(openssl x509 -in "$work/cert1.pem" -noout -ocsp_uri)
fi
if [[ -z $url ]]; then
  echo "homerack-ocsp-refresh: $cert names no OCSP responder (Let's Encrypt certificates no longer do); remove ocsp_response from the edge's configuration" >&2
  exit 3
fi

# -verify_other: the issuer may sign the response itself or delegate to a responder it certified.
if ! report=$(openssl ocsp -issuer "$work/cert2.pem" -cert "$work/cert1.pem" -url "$url" \
  -CAfile "$ca_file" -verify_other "$work/cert2.pem" -no_nonce -timeout 30 \
  -respout "$work/response.der" 2>&1); then
  echo "homerack-ocsp-refresh: the OCSP request to $url failed; $out is unchanged: $report" >&2
  exit 1
fi
if ! grep -q '^Response verify OK' <<<"$report"; then
  echo "homerack-ocsp-refresh: the response from $url did not verify; $out is unchanged: $report" >&2
  exit 1
fi
status=$(sed -n "s|^$work/cert1.pem: ||p" <<<"$report" | head -n 1)
case "$status" in
  good|revoked) ;;
  *) echo "homerack-ocsp-refresh: the response says '$status' for the certificate; $out is unchanged: $report" >&2; exit 1 ;;
esac

install -m 0644 "$work/response.der" "$out.tmp"
mv -f "$out.tmp" "$out"
next=$(sed -n 's/^[[:space:]]*Next Update: //p' <<<"$report" | head -n 1)
echo "homerack-ocsp-refresh: wrote $out ($status, next update ${next:-none})"
if ((reload)); then
  systemctl reload homerack-edge
fi
if [[ $status == revoked ]]; then
  echo "homerack-ocsp-refresh: the certificate in $cert is REVOKED; replace it" >&2
  exit 2
fi
