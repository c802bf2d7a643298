#!/usr/bin/env bash
# The project's one test command.
#
#   scripts/test.sh [swift test args...]      e.g. scripts/test.sh --filter CacheTests
#   scripts/test.sh --with-servers CMD [ARGS...]
#                                             runs CMD instead of `swift test`, with the
#                                             same servers and variables (benchmarks use it)
#
# 1. Installs the Debian packages the build and the tests need (only the missing ones;
#    the lists are in scripts/lib/debian-packages.sh, shared with scripts/run.sh).
# 2. Starts a throw-away PostgreSQL 15 and Redis on 127.0.0.1, on free ports,
#    in a temporary directory.
# 3. Runs `swift test "$@"` from the repo root with
#      HOMERACK_TEST_POSTGRES_URL=postgres://homerack@127.0.0.1:PORT/homerack_test
#      HOMERACK_TEST_REDIS_URL=redis://127.0.0.1:PORT
# 4. Without arguments (the whole suite, as CI runs it), then runs the planner's browser test,
#    scripts/test-browser.sh (headless Chromium through the edge; it ends with
#    `N passed, N failed`), whether or not `swift test` passed.
# 5. Stops the servers it started (by PID) and removes the temp dir on every
#    exit path, and exits non-zero when `swift test` or the browser test failed.
#
# If HOMERACK_TEST_POSTGRES_URL and/or HOMERACK_TEST_REDIS_URL are already set,
# those servers are used and the corresponding throw-away server is not started.
# shellcheck disable=SC2317  # functions below are invoked from traps
set -euo pipefail

PGBIN=/usr/lib/postgresql/15/bin
WAIT_SECONDS=30       # readiness timeout per server
STOP_GRACE_SECONDS=10 # SIGTERM -> SIGKILL grace period

log() { printf 'test.sh: %s\n' "$*" >&2; }
die() { printf 'test.sh: error: %s\n' "$*" >&2; exit 1; }

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

# ---------------------------------------------------------------- state ------
TMP_DIR=""
PG_DATA=""
PG_PID=""
PG_LAUNCHED=0
REDIS_PID=""
TEST_PID=""

if [[ $(id -u) -eq 0 ]]; then IS_ROOT=1; else IS_ROOT=0; fi

# True if PID exists and is not a zombie.
is_alive() {
  local pid=$1 stat
  [[ -n $pid ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  read -r stat 2>/dev/null <"/proc/$pid/stat" || return 1
  stat=${stat##*) }           # drop "pid (comm) "
  [[ ${stat:0:1} != Z ]]
}

# stop_pid NAME PID SIGNAL [process-group]
# Sends SIGNAL, waits up to STOP_GRACE_SECONDS, then SIGKILL. Never by name.
stop_pid() {
  local name=$1 pid=$2 sig=$3 group=${4:-} target i
  [[ -n $pid ]] || return 0
  target=$pid
  [[ -n $group ]] && target="-$pid"
  if ! is_alive "$pid"; then
    wait "$pid" 2>/dev/null || true
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill "-$sig" -- "$target" 2>/dev/null || true
  for ((i = 0; i < STOP_GRACE_SECONDS * 10; i++)); do
    is_alive "$pid" || break
    sleep 0.1
  done
  if is_alive "$pid"; then
    log "$name (pid $pid) did not stop after ${STOP_GRACE_SECONDS}s, sending SIGKILL"
    kill -KILL -- "$target" 2>/dev/null || true
    sleep 0.2
  elif [[ -n $group ]]; then
    # Leader gone; make sure nothing else from its process group lingers.
    kill -KILL -- "$target" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true   # reap if it is our child
}

cleanup() {
  local rc=$?
  trap - EXIT
  trap '' INT TERM   # finish cleaning up even if interrupted again
  set +e
  stop_pid "swift test" "$TEST_PID" TERM group
  stop_pid redis "$REDIS_PID" TERM
  if [[ $PG_LAUNCHED -eq 1 && -z $PG_PID && -n $PG_DATA ]]; then
    # Interrupted between launch and readiness: pick up the PID if it appears.
    for ((i = 0; i < 50; i++)); do
      [[ -s $PG_DATA/postmaster.pid ]] && break
      sleep 0.1
    done
    PG_PID=$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null)
  fi
  # SIGINT = PostgreSQL "fast shutdown" (SIGTERM would be "smart shutdown",
  # which waits for all clients to disconnect).
  stop_pid postgres "$PG_PID" INT
  if [[ -n $TMP_DIR && -d $TMP_DIR ]]; then
    rm -rf -- "$TMP_DIR"
  fi
  exit "$rc"
}
on_signal() {
  log "received SIG$1, cleaning up"
  exit "$2"   # runs the EXIT trap
}
trap cleanup EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

# ------------------------------------------------------------ packages -------
need_pg=1;    [[ -n ${HOMERACK_TEST_POSTGRES_URL:-} ]] && need_pg=0
need_redis=1; [[ -n ${HOMERACK_TEST_REDIS_URL:-} ]] && need_redis=0

# shellcheck source=scripts/lib/debian-packages.sh
source "$REPO_ROOT/scripts/lib/debian-packages.sh"
wanted=("${BUILD_PACKAGES[@]}" "${RUN_PACKAGES[@]}")
for pkg in "${TEST_PACKAGES[@]}"; do
  [[ $pkg == postgresql && $need_pg -eq 0 ]] && continue
  [[ $pkg == redis-server && $need_redis -eq 0 ]] && continue
  wanted+=("$pkg")
done
ensure_debian_packages "${wanted[@]}" || die "could not install the Debian packages the tests need"

command -v swift >/dev/null 2>&1 || die "swift not found on PATH"

# --------------------------------------------------------------- helpers -----
free_port() {
  local port
  if command -v python3 >/dev/null 2>&1 &&
     port=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null) &&
     [[ -n $port ]]; then
    echo "$port"
    return 0
  fi
  # Fallback: random high port that nothing accepts connections on.
  local i
  for ((i = 0; i < 200; i++)); do
    port=$((20000 + RANDOM % 40000))
    if command -v ss >/dev/null 2>&1; then
      ss -Htan "sport = :$port" 2>/dev/null | grep -q . && continue
    fi
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  die "could not find a free TCP port"
}

# as_pg LOGFILE CMD...: run CMD with output to LOGFILE, as the postgres system
# user when we are root (PostgreSQL refuses to run as root), from a directory
# that user can read. The redirection happens inside the subshell so that a
# trap firing meanwhile does not run with this shell's stderr redirected.
as_pg() {
  local out=$1
  shift
  if [[ $IS_ROOT -eq 1 ]]; then
    (exec >"$out" 2>&1 </dev/null; cd "$TMP_DIR" && exec runuser -u postgres -- "$@")
  else
    (exec >"$out" 2>&1 </dev/null; cd "$TMP_DIR" && exec "$@")
  fi
}

log_tail() {
  local file=$1
  if [[ -s $file ]]; then
    echo "----- last lines of $file -----" >&2
    tail -n 30 "$file" >&2
    echo "-----" >&2
  fi
}

# -------------------------------------------------------------- servers ------
if [[ $need_pg -eq 1 || $need_redis -eq 1 ]]; then
  TMP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/homerack-test.XXXXXX")
  chmod 755 "$TMP_DIR"
fi

if [[ $need_redis -eq 1 ]]; then
  command -v redis-server >/dev/null 2>&1 || die "redis-server not found (is the redis-server package installed?)"
  REDIS_PORT=$(free_port)
  REDIS_LOG=$TMP_DIR/redis.log
  log "starting redis on 127.0.0.1:$REDIS_PORT"
  # setsid (no fork here, so $! is redis itself): own session, so a Ctrl-C in
  # the terminal reaches only this script, which stops redis after the tests.
  setsid redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --dir "$TMP_DIR" </dev/null >"$REDIS_LOG" 2>&1 &
  REDIS_PID=$!
fi

if [[ $need_pg -eq 1 ]]; then
  [[ -x $PGBIN/initdb ]] || die "$PGBIN/initdb not found (is the postgresql 15 package installed?)"
  if [[ $IS_ROOT -eq 1 ]]; then
    getent passwd postgres >/dev/null || die "running as root but there is no 'postgres' system user (it is created by the postgresql package)"
  fi
  PG_PORT=$(free_port)
  for ((i = 0; i < 20; i++)); do
    [[ $PG_PORT != "${REDIS_PORT:-}" ]] && break
    PG_PORT=$(free_port)
  done
  PG_DATA=$TMP_DIR/pgdata
  PG_SOCK=$TMP_DIR/pgsock
  PG_LOG=$TMP_DIR/postgres.log
  mkdir -p "$PG_DATA" "$PG_SOCK"
  chmod 700 "$PG_DATA"
  touch "$PG_LOG"
  if [[ $IS_ROOT -eq 1 ]]; then
    chown postgres: "$PG_DATA" "$PG_SOCK" "$PG_LOG"
    runuser -u postgres -- test -w "$PG_SOCK" ||
      die "user postgres cannot write to $PG_SOCK; set TMPDIR to a directory it can reach (e.g. /tmp)"
  fi

  log "starting postgres on 127.0.0.1:$PG_PORT"
  if ! as_pg "$TMP_DIR/initdb.log" "$PGBIN/initdb" -D "$PG_DATA" -A trust \
        -U homerack --no-sync -E UTF8 --locale=C.UTF-8; then
    log_tail "$TMP_DIR/initdb.log"
    die "initdb failed"
  fi
  cat >>"$PG_DATA/postgresql.conf" <<EOF

# --- throw-away test server (scripts/test.sh) ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  # pg_ctl puts the postmaster in its own session, so a Ctrl-C in the terminal
  # reaches only this script, which then shuts the server down in order.
  # -w -t: pg_ctl waits for readiness and notices at once if postgres dies.
  PG_LAUNCHED=1
  if ! as_pg "$TMP_DIR/pg_ctl.log" "$PGBIN/pg_ctl" start -w -t "$WAIT_SECONDS" \
        -D "$PG_DATA" -l "$PG_LOG"; then
    PG_PID=$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)
    log_tail "$PG_LOG"
    log_tail "$TMP_DIR/pg_ctl.log"
    die "postgres failed to start on 127.0.0.1:$PG_PORT (or was not ready within ${WAIT_SECONDS}s)"
  fi
  PG_PID=$(head -n1 "$PG_DATA/postmaster.pid")
fi

if [[ $need_pg -eq 1 ]]; then
  ready=0
  for ((i = 0; i < WAIT_SECONDS * 5; i++)); do
    is_alive "$PG_PID" || break
    if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U homerack -d postgres; then
      ready=1
      break
    fi
    sleep 0.2
  done
  if [[ $ready -ne 1 ]]; then
    log_tail "$PG_LOG"
    is_alive "$PG_PID" || die "postgres exited during startup (port 127.0.0.1:$PG_PORT)"
    die "postgres did not become ready on 127.0.0.1:$PG_PORT within ${WAIT_SECONDS}s"
  fi
  if ! "$PGBIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U homerack homerack_test; then
    log_tail "$PG_LOG"
    die "could not create database homerack_test"
  fi
  log "postgres ready (pid $PG_PID)"
  export HOMERACK_TEST_POSTGRES_URL="postgres://homerack@127.0.0.1:$PG_PORT/homerack_test"
else
  log "using existing postgres from HOMERACK_TEST_POSTGRES_URL"
fi

if [[ $need_redis -eq 1 ]]; then
  ready=0
  for ((i = 0; i < WAIT_SECONDS * 5; i++)); do
    is_alive "$REDIS_PID" || break
    if [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; then
      ready=1
      break
    fi
    sleep 0.2
  done
  if [[ $ready -ne 1 ]]; then
    log_tail "$REDIS_LOG"
    is_alive "$REDIS_PID" || die "redis exited during startup (port 127.0.0.1:$REDIS_PORT)"
    die "redis did not become ready on 127.0.0.1:$REDIS_PORT within ${WAIT_SECONDS}s"
  fi
  log "redis ready (pid $REDIS_PID)"
  export HOMERACK_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
else
  log "using existing redis from HOMERACK_TEST_REDIS_URL"
fi

# ----------------------------------------------------------------- tests -----
COMMAND=(swift test "$@")
if [[ ${1:-} == --with-servers ]]; then
  shift
  [[ $# -gt 0 ]] || die "--with-servers needs a command to run"
  COMMAND=("$@")
fi
browser_tests=0
[[ $# -eq 0 ]] && browser_tests=1

# Runs one step in the background, in its own process group (set -m), so that a SIGTERM or
# SIGINT to this script is handled immediately (bash defers traps while a foreground child
# runs) and the whole test process tree can be stopped; sets step_rc to its exit status.
run_step() { # label command...
  local label=$1
  shift
  log "running $label"
  set -m
  "$@" </dev/null &
  TEST_PID=$!
  set +m
  step_rc=0
  wait "$TEST_PID" || step_rc=$?
  TEST_PID=""
  log "$label exited with status $step_rc"
}

run_step "${COMMAND[*]}" "${COMMAND[@]}"
rc=$step_rc

if [[ $browser_tests -eq 1 ]]; then
  run_step "scripts/test-browser.sh" "$REPO_ROOT/scripts/test-browser.sh"
  [[ $rc -eq 0 ]] && rc=$step_rc
fi
exit "$rc"
