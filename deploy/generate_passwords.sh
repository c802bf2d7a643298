#!/usr/bin/env bash
# Generates HomeRack's secrets into a new file (mode 600), never over an existing one.
#
#   deploy/generate_passwords.sh [FILE]      FILE defaults to .env.generated
#
# Writes KEY=VALUE lines:
#   POSTGRES_PASSWORD   32 characters from [A-Za-z0-9]: 190 bits, and safe in a URL unescaped
#   REDIS_PASSWORD      48 characters from [A-Za-z0-9]: 285 bits
#   API_TOKEN           64 hex digits (32 random bytes, 256 bits): give it to API clients
#   API_TOKEN_DIGEST    sha256:<hex> of API_TOKEN, the form API_TOKENS takes (the same digest
#                       `homerack-backend hash-token` prints), so the token itself never sits in
#                       /etc/homerack/backend.env
# Values come from the kernel's CSPRNG (/dev/urandom). Then: put POSTGRES_PASSWORD into
# DATABASE_URL and `ALTER ROLE`, REDIS_PASSWORD into redis.conf's requirepass and REDIS_URL,
# API_TOKEN_DIGEST into API_TOKENS (PRODUCTION_SETUP.md, "Secrets"), and delete the file or
# keep it where only root can read it. `.env*` files stay out of git (.gitignore).
#
# Exit codes: 0 written, 1 FILE exists (left untouched) or a failure, 2 usage.
set -euo pipefail

[[ $# -le 1 && ${1:-} != -* ]] || { sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
FILE=${1:-.env.generated}

# random_alnum N: N characters drawn uniformly from [A-Za-z0-9] (tr drops the other bytes;
# no modulo bias).
random_alnum() {
  local n=$1 out=""
  while ((${#out} < n)); do
    out+=$(head -c 256 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9')
  done
  printf '%s' "${out:0:n}"
}

random_hex() {
  od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# noclobber: the redirection below fails if FILE exists, even if it appeared since a check.
set -o noclobber
umask 077
POSTGRES_PASSWORD=$(random_alnum 32)
REDIS_PASSWORD=$(random_alnum 48)
API_TOKEN=$(random_hex 32)
API_TOKEN_DIGEST="sha256:$(printf '%s' "$API_TOKEN" | sha256sum | cut -d' ' -f1)"

if ! { exec 3>"$FILE"; } 2>/dev/null; then
  echo "generate_passwords.sh: $FILE exists (or cannot be created); it is left untouched" >&2
  exit 1
fi
cat >&3 <<EOF
# HomeRack secrets, generated $(date -u +%Y-%m-%dT%H:%M:%SZ) by deploy/generate_passwords.sh.
# Copy each value where PRODUCTION_SETUP.md ("Secrets") says, then delete this file.
POSTGRES_PASSWORD=$POSTGRES_PASSWORD
REDIS_PASSWORD=$REDIS_PASSWORD
API_TOKEN=$API_TOKEN
API_TOKEN_DIGEST=$API_TOKEN_DIGEST
EOF
exec 3>&-
chmod 600 "$FILE"
echo "generate_passwords.sh: wrote $FILE (mode 600)" >&2
