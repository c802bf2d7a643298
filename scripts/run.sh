#!/usr/bin/env bash
# Builds and runs the HomeRack stack on this machine.
#
# Today the stack is the edge (config/edge.dev.yaml) in front of whatever HTTP server answers at
# HOMERACK_BACKEND (default 127.0.0.1:8000); the Swift backend workers join it when their issue
# lands. Ctrl-C stops everything this script started.
#
# The edge serves HTTPS on https://localhost:8443/ with a self-signed development certificate,
# made by deploy/generate_ssl_cert.sh into certs/dev/ when certs/dev/cert.pem is missing;
# http://localhost:8080/ redirects there. curl needs -k or --cacert certs/dev/cert.pem.
#
#   HOMERACK_BACKEND=127.0.0.1:8000   the upstream the edge proxies /api/, /uploads/, /docs, /health to
#   EDGE_CONFIG=config/edge.dev.yaml   the edge's configuration
#   BUILD=release                      or debug (faster to build, slower to run)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

config=${EDGE_CONFIG:-config/edge.dev.yaml}
build=${BUILD:-release}
case "$build" in release|debug) ;; *) echo "run.sh: BUILD must be release or debug, not '$build'" >&2; exit 2 ;; esac

echo "run.sh: building homerack-edge ($build; the first build takes several minutes)"
swift build -c "$build" --product homerack-edge
bin="$(swift build -c "$build" --show-bin-path)/homerack-edge"

# The development configuration names certs/dev/cert.pem and key.pem, which must exist for it
# to be valid. HOMERACK_TLS_CERT points elsewhere when set (see config/edge.dev.yaml).
if [[ -z ${HOMERACK_TLS_CERT:-} ]] && [[ ! -f certs/dev/cert.pem || ! -f certs/dev/key.pem ]]; then
    echo "run.sh: no development certificate in certs/dev/; making one"
    deploy/generate_ssl_cert.sh
fi

"$bin" --config "$config" --check

echo "run.sh: starting the edge"
"$bin" --config "$config" &
edge=$!
stop() {
    trap - EXIT INT TERM
    if kill -0 "$edge" 2>/dev/null; then
        echo "run.sh: stopping the edge (pid $edge)"
        kill -TERM "$edge" 2>/dev/null || true
        wait "$edge" 2>/dev/null || true
    fi
}
trap stop EXIT INT TERM

echo "run.sh: edge     https://localhost:8443/   (proxies /api/ to ${HOMERACK_BACKEND:-127.0.0.1:8000}; self-signed: curl -k, or --cacert certs/dev/cert.pem)"
echo "run.sh: redirect http://localhost:8080/    (redirects to https://localhost:8443/)"
echo "run.sh: metrics  http://127.0.0.1:9901/metrics"
echo "run.sh: reload   kill -HUP $edge   (after editing $config)"
wait "$edge"
