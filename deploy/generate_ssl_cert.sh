#!/usr/bin/env bash
# Makes a self-signed TLS certificate for developing and testing the edge. Never for production:
# there the certificate comes from Let's Encrypt (docs/TLS.md).
#
#   deploy/generate_ssl_cert.sh [--rsa] [--out DIR] [--force] [NAME...]
#
#   NAME...     extra DNS names or IP addresses for the certificate, besides localhost,
#               127.0.0.1 and ::1 (e.g. homerack.test 192.168.1.20)
#   --rsa       an RSA 2048 key instead of ECDSA P-256 (--ecdsa, the default, switches back)
#   --out DIR   where to write cert.pem and key.pem (default: certs/dev in the repository)
#   --force     replace an existing certificate
#
# Without --force an existing pair is kept (and its fingerprint printed), so scripts/run.sh can
# call this every time. The certificate is valid for 825 days, the longest Apple platforms
# accept for a server certificate. key.pem is written with mode 0600.
#
# Clients do not trust it: use `curl -k`, or `curl --cacert certs/dev/cert.pem`.
set -euo pipefail

DAYS=825
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf 'generate_ssl_cert.sh: %s\n' "$*"; }
die() { printf 'generate_ssl_cert.sh: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,17s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

key_type=ecdsa
out_dir="$repo_root/certs/dev"
force=0
names=()
while (($#)); do
  case $1 in
    --rsa) key_type=rsa ;;
    --ecdsa) key_type=ecdsa ;;
    --out)
      (($# >= 2)) || die "--out needs a directory"
      out_dir=$2
      shift
      ;;
    --out=*) out_dir=${1#--out=} ;;
    --force) force=1 ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option '$1'" ;;
    *) names+=("$1") ;;
  esac
  shift
done

# ------------------------------------------------------------------ openssl ------
if ! command -v openssl >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    die "openssl is not installed and this is not root (no sudo either); as root run: apt-get install openssl"
  fi
  log "installing openssl (apt-get)"
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl >/dev/null
fi

# ---------------------------------------------------------- subject names ------
is_ip() { [[ $1 =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ || $1 == *:* ]]; }
san="DNS:localhost,IP:127.0.0.1,IP:::1"
for name in "${names[@]}"; do
  if is_ip "$name"; then
    san+=",IP:$name"
  elif [[ $name =~ ^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$ ]]; then
    san+=",DNS:$name"
  else
    die "'$name' is neither a DNS name nor an IP address"
  fi
done

cert="$out_dir/cert.pem"
key="$out_dir/key.pem"

fingerprint() { openssl x509 -noout -fingerprint -sha256 -in "$1" | sed 's/^.*=//'; }

describe() {
  log "certificate  $cert"
  log "private key  $key (mode $(stat -c %a "$key"))"
  log "names        $(openssl x509 -noout -ext subjectAltName -in "$cert" | tail -n +2 | sed 's/^ *//')"
  log "expires      $(openssl x509 -noout -enddate -in "$cert" | sed 's/^notAfter=//')"
  log "SHA-256      $(fingerprint "$cert")"
}

# ---------------------------------------------------------------- existing ------
if [[ -f $cert && -f $key && $force -eq 0 ]]; then
  log "keeping the existing certificate (--force makes a new one)"
  describe
  # Names asked for that the existing certificate lacks: say so rather than silently ignore them.
  existing=$(openssl x509 -noout -ext subjectAltName -in "$cert" | tail -n +2)
  for name in "${names[@]}"; do
    if is_ip "$name"; then entry="IP Address:$name"; else entry="DNS:$name"; fi
    if ! grep -qiF -- "$entry" <<<"$existing"; then
      log "note: the existing certificate does not cover '$name'; run again with --force to add it"
    fi
  done
  exit 0
fi
if [[ -f $cert || -f $key ]] && [[ $force -eq 0 ]]; then
  log "only one of cert.pem and key.pem exists in $out_dir; making a new pair"
fi

# ---------------------------------------------------------------- generate ------
mkdir -p "$out_dir"
tmp_dir=$(mktemp -d "$out_dir/.generate.XXXXXX")
trap 'rm -rf -- "$tmp_dir"' EXIT

case $key_type in
  ecdsa)
    key_args=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1)
    key_usage="digitalSignature"
    description="ECDSA P-256"
    ;;
  rsa)
    key_args=(-newkey rsa:2048)
    # RSA key exchange (TLS 1.2 without ECDHE) needs keyEncipherment; the edge offers only
    # ECDHE suites, but other local tools may not.
    key_usage="digitalSignature,keyEncipherment"
    description="RSA 2048"
    ;;
esac

(
  umask 077
  openssl req -x509 "${key_args[@]}" -nodes -sha256 -days "$DAYS" \
    -keyout "$tmp_dir/key.pem" -out "$tmp_dir/cert.pem" \
    -subj "/O=HomeRack development/CN=localhost" \
    -addext "subjectAltName=$san" \
    -addext "basicConstraints=critical,CA:FALSE" \
    -addext "keyUsage=critical,$key_usage" \
    -addext "extendedKeyUsage=serverAuth" \
    2>"$tmp_dir/openssl.log" || { cat "$tmp_dir/openssl.log" >&2; exit 1; }
) || die "openssl could not make the certificate"
chmod 600 "$tmp_dir/key.pem"
chmod 644 "$tmp_dir/cert.pem"
# The key first: a reader that sees the new certificate must find the matching key.
mv -f "$tmp_dir/key.pem" "$key"
mv -f "$tmp_dir/cert.pem" "$cert"

log "made a self-signed $description certificate, valid for $DAYS days"
describe
log "trust it with: curl --cacert $cert https://localhost:8443/   (or curl -k)"
