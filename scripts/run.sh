#!/usr/bin/env bash
# Builds and runs the whole HomeRack stack on this machine: the rack API as supervised worker
# processes (homerack-backend supervise) and the edge (config/edge.dev.yaml) in front of them.
# Ctrl-C stops everything this script started.
#
# The edge serves HTTPS on https://localhost:8443/ with a self-signed development certificate,
# made by deploy/generate_ssl_cert.sh into certs/dev/ when certs/dev/cert.pem is missing;
# http://localhost:8080/ redirects there. curl needs -k or --cacert certs/dev/cert.pem.
#
# The API runs WORKERS worker processes (default: the number of cores), all accepting on
# 127.0.0.1:8000 (WORKER_SOCKETS=shared: the edge lists that one address, so workers added or
# removed with SIGTTIN/SIGTTOU need no edge edit), on the embedded SQLite store in ./data; set DATABASE_URL and REDIS_URL
# to run on PostgreSQL and Redis instead (docs/CONFIG.md lists every backend variable).
#
#   WORKERS=4                          worker processes
#   BACKEND_PORT=8000                  the port every worker accepts on
#   EDGE_CONFIG=config/edge.dev.yaml   the edge's configuration (its upstream pool is filled in)
#   BUILD=release                      or debug (faster to build, slower to run)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

config=${EDGE_CONFIG:-config/edge.dev.yaml}
build=${BUILD:-release}
case "$build" in release|debug) ;; *) echo "run.sh: BUILD must be release or debug, not '$build'" >&2; exit 2 ;; esac
workers=${WORKERS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}
port=${BACKEND_PORT:-8000}
[[ $workers =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: WORKERS must be a positive number, not '$workers'" >&2; exit 2; }
[[ $port =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: BACKEND_PORT must be a port number, not '$port'" >&2; exit 2; }

# The system libraries the build links against and the tools this script uses, installed when
# missing (the same package step as scripts/test.sh).
# shellcheck source=scripts/lib/debian-packages.sh
source scripts/lib/debian-packages.sh
ensure_debian_packages "${BUILD_PACKAGES[@]}" "${RUN_PACKAGES[@]}" ||
    { echo "run.sh: could not install the Debian packages the build needs" >&2; exit 1; }

echo "run.sh: building homerack-backend and homerack-edge ($build; the first build takes several minutes)"
swift build -c "$build" --product homerack-backend
swift build -c "$build" --product homerack-edge
bin="$(swift build -c "$build" --show-bin-path)"

# The development configuration names certs/dev/cert.pem and key.pem, which must exist for it
# to be valid. HOMERACK_TLS_CERT points elsewhere when set (see config/edge.dev.yaml).
if [[ -z ${HOMERACK_TLS_CERT:-} ]] && [[ ! -f certs/dev/cert.pem || ! -f certs/dev/key.pem ]]; then
    echo "run.sh: no development certificate in certs/dev/; making one"
    deploy/generate_ssl_cert.sh
fi

# The edge's upstream pool lists the one address every worker accepts on: the configuration's
# "- ${HOMERACK_BACKEND:-...}" line becomes that address, in run/edge.yaml.
mkdir -p run
edge_config=run/edge.yaml
servers=""
servers="      - 127.0.0.1:$port\n"
# awk turns the \n in a -v value into newlines.
awk -v servers="$servers" '
    index($0, "- ${HOMERACK_BACKEND") > 0 { printf "%s", servers; replaced = 1; next }
    { print }
    END { if (!replaced) exit 1 }
' "$config" >"$edge_config" || {
    echo "run.sh: $config has no '- \${HOMERACK_BACKEND...}' server line to fill in" >&2
    exit 1
}
"$bin/homerack-edge" --config "$edge_config" --check

backend=""
edge=""
stop() {
    trap - EXIT INT TERM
    for name in edge backend; do
        pid=${!name}
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            echo "run.sh: stopping the $name (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
    for name in edge backend; do
        pid=${!name}
        [[ -n $pid ]] && wait "$pid" 2>/dev/null || true
    done
}
trap stop EXIT INT TERM

echo "run.sh: starting $workers backend workers, all on 127.0.0.1:$port"
WORKER_SOCKETS=shared "$bin/homerack-backend" supervise --workers "$workers" --bind "127.0.0.1:$port" &
backend=$!

# Ready = the shared socket answers /api/health/ready (database open and migrated) once per worker.
ready_status() (
    status=""
    exec 3<>"/dev/tcp/127.0.0.1/$1"
    printf 'GET /api/health/ready HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
    read -r -t 5 _ status _ <&3 || true
    [[ $status == 200 ]]
)
for ((i = 0; i < workers; i++)); do
    for ((try = 0; ; try++)); do
        kill -0 "$backend" 2>/dev/null || { echo "run.sh: the backend exited during start-up" >&2; exit 1; }
        ready_status "$port" 2>/dev/null && break
        ((try < 600)) || { echo "run.sh: the workers on 127.0.0.1:$port are not ready after 60 s" >&2; exit 1; }
        sleep 0.1
    done
done

echo "run.sh: starting the edge"
"$bin/homerack-edge" --config "$edge_config" &
edge=$!
for ((try = 0; ; try++)); do
    kill -0 "$edge" 2>/dev/null || { echo "run.sh: the edge exited during start-up" >&2; exit 1; }
    if command -v curl >/dev/null 2>&1; then
        [[ $(curl -sk -o /dev/null -w '%{http_code}' https://localhost:8443/api/racks) == 200 ]] && break
    else
        (exec 3<>/dev/tcp/127.0.0.1/8443) 2>/dev/null && break
    fi
    ((try < 300)) || { echo "run.sh: the edge does not answer on https://localhost:8443/ after 30 s" >&2; exit 1; }
    sleep 0.1
done

echo "run.sh: edge     https://localhost:8443/   (self-signed: curl -k, or --cacert certs/dev/cert.pem)"
echo "run.sh: api      https://localhost:8443/api/racks"
echo "run.sh: redirect http://localhost:8080/    (redirects to https://localhost:8443/)"
echo "run.sh: metrics  http://127.0.0.1:9901/metrics (edge)   http://127.0.0.1:9102/metrics (backend workers)"
echo "run.sh: reload   kill -HUP $backend (backend: replaces the workers one by one), kill -HUP $edge (edge: re-reads $edge_config)"
echo "run.sh: Ctrl-C stops everything"
# Until Ctrl-C, or until either process exits (then the other is stopped too).
wait -n "$backend" "$edge" || true
