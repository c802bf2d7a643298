#!/usr/bin/env bash
# Checks the running API against its own OpenAPI document (GET /api/openapi.json) with
# Schemathesis: generated requests, valid and invalid, whose answers must match the documented
# statuses, media types, headers and schemas, and never be a 5xx.
#
#   scripts/check-openapi.sh                    builds homerack-backend (debug), serves it on a
#                                               free port over a throwaway data directory, checks
#                                               it, and stops it
#   scripts/check-openapi.sh http://HOST:PORT   checks a server already running there (it writes:
#                                               use a disposable database); API_TOKEN=... when
#                                               that server has write tokens
#
# Anything after the URL goes to `schemathesis run` (e.g. --max-time 120, --include-tag Racks);
# MAX_EXAMPLES (default 25) bounds the cases per operation.
# Schemathesis is installed on first use into .build-tools/schemathesis, a virtualenv git ignores.
# The document itself is also checked against the OpenAPI 3.1 specification first.
#
# Not part of scripts/test.sh: it is slow, random, and reports findings rather than gating.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=.build-tools/schemathesis
if [[ ! -x $venv/bin/schemathesis ]]; then
    echo "check-openapi.sh: installing schemathesis into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet schemathesis openapi-spec-validator
fi

base=""
if [[ ${1:-} == http://* || ${1:-} == https://* ]]; then
    base=${1%/}
    shift
fi

if [[ -z $base ]]; then
    echo "check-openapi.sh: building homerack-backend"
    swift build --product homerack-backend
    bin="$(swift build --show-bin-path)/homerack-backend"
    scratch=$(mktemp -d)
    # Writes need this token, so the checks see the documented 401s (see API_TOKEN below).
    API_TOKEN=${API_TOKEN:-check-openapi-$RANDOM$RANDOM}
    API_TOKENS="$API_TOKEN" DATA_DIR="$scratch" UPLOADS_DIR="$scratch/uploads" \
        "$bin" serve --host 127.0.0.1 --port 0 \
        >"$scratch/serve.out" 2>"$scratch/serve.err" &
    server=$!
    stop() {
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
        rm -rf "$scratch"
    }
    trap stop EXIT
    # `serve` prints `homerack-backend listening on http://127.0.0.1:PORT` once it listens.
    for _ in $(seq 1 100); do
        base=$(sed -n 's/^homerack-backend listening on \(http:[^ ]*\).*/\1/p' "$scratch/serve.out")
        [[ -n $base ]] && break
        if ! kill -0 "$server" 2>/dev/null; then
            echo "check-openapi.sh: homerack-backend exited:" >&2
            cat "$scratch/serve.err" >&2
            exit 1
        fi
        sleep 0.2
    done
    [[ -n $base ]] || { echo "check-openapi.sh: homerack-backend did not start" >&2; exit 1; }
fi

echo "check-openapi.sh: validating $base/api/openapi.json against the OpenAPI 3.1 specification"
"$venv/bin/python" - "$base/api/openapi.json" <<'PYTHON'
import json, sys, urllib.request
from openapi_spec_validator import validate
with urllib.request.urlopen(sys.argv[1]) as response:
    validate(json.load(response))
print("check-openapi.sh: the document is valid OpenAPI 3.1")
PYTHON

echo "check-openapi.sh: running schemathesis against $base"
auth=()
[[ -n ${API_TOKEN:-} ]] && auth=(--header "Authorization: Bearer $API_TOKEN")
# Run from the virtualenv's folder, so Schemathesis's and Hypothesis's caches stay out of the tree.
cd "$venv"
bin/schemathesis run "$base/api/openapi.json" --url "$base" --checks all "${auth[@]}" \
    --max-examples "${MAX_EXAMPLES:-25}" --request-timeout 10 --no-color "$@"
