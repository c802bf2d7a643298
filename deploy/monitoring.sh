#!/usr/bin/env bash
# HomeRack monitoring stack from Debian's packages, no containers: Prometheus, Alertmanager,
# node exporter and process exporter, each on loopback.
#
#   monitoring.sh start     start what is not running, wait until each answers (or fail)
#   monitoring.sh stop      stop them (by the PIDs this script recorded), SIGTERM then SIGKILL
#   monitoring.sh status    one line per component; exit 0 only when all four answer
#   monitoring.sh logs [COMPONENT] [LINES]   the last lines of each component's log
#   monitoring.sh backup    a Prometheus TSDB snapshot and the configuration, as one tar.gz
#
# Packages: prometheus prometheus-alertmanager prometheus-node-exporter
# prometheus-process-exporter curl. Files: monitoring/ beside this script's deploy/ (or
# MONITORING_CONFIG_DIR): prometheus.yml, alerts.yml, alertmanager.yml, process-exporter.yml.
#
# Settings (environment):
#   MONITORING_DIR=/var/lib/homerack-monitoring   data, PID files, logs, rendered configuration
#   PROMETHEUS_ADDRESS=127.0.0.1:9090   ALERTMANAGER_ADDRESS=127.0.0.1:9093
#   NODE_EXPORTER_ADDRESS=127.0.0.1:9100   PROCESS_EXPORTER_ADDRESS=127.0.0.1:9256
#   EDGE_METRICS_ADDRESS=127.0.0.1:9901 (the edge's admin listener)
#   BACKEND_METRICS_ADDRESS=127.0.0.1:9102 (the supervisor's METRICS_ADDRESS)
#   PROMETHEUS_RETENTION=30d   SCRAPE_INTERVAL=15s   READY_TIMEOUT=60 (seconds per component)
# The addresses are substituted for the defaults in prometheus.yml when it is rendered into
# MONITORING_DIR at start. Run as root, the daemons run as the `prometheus` user the Debian
# package creates.
#
# Under systemd, Debian's own units (prometheus, prometheus-alertmanager, ...) restart what
# crashes and this script does not: PRODUCTION_SETUP.md ("Monitoring") shows both ways.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONFIG_DIR=${MONITORING_CONFIG_DIR:-$HERE/../monitoring}
DIR=${MONITORING_DIR:-/var/lib/homerack-monitoring}
PROMETHEUS_ADDRESS=${PROMETHEUS_ADDRESS:-127.0.0.1:9090}
ALERTMANAGER_ADDRESS=${ALERTMANAGER_ADDRESS:-127.0.0.1:9093}
NODE_EXPORTER_ADDRESS=${NODE_EXPORTER_ADDRESS:-127.0.0.1:9100}
PROCESS_EXPORTER_ADDRESS=${PROCESS_EXPORTER_ADDRESS:-127.0.0.1:9256}
EDGE_METRICS_ADDRESS=${EDGE_METRICS_ADDRESS:-127.0.0.1:9901}
BACKEND_METRICS_ADDRESS=${BACKEND_METRICS_ADDRESS:-127.0.0.1:9102}
PROMETHEUS_RETENTION=${PROMETHEUS_RETENTION:-30d}
SCRAPE_INTERVAL=${SCRAPE_INTERVAL:-15s}
READY_TIMEOUT=${READY_TIMEOUT:-60}
STOP_GRACE=30
COMPONENTS=(node-exporter process-exporter alertmanager prometheus)

log() { printf 'monitoring.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# The user the daemons run as: `prometheus` when this runs as root, else whoever runs it.
# setpriv execs (runuser would fork and leave its own PID in the PID file).
RUN_AS=()
if ((EUID == 0)) && getent passwd prometheus >/dev/null; then
  RUN_AS=(setpriv --reuid=prometheus --regid=prometheus --init-groups --inh-caps=-all)
fi

binary() {
  case $1 in
    prometheus) echo prometheus ;;
    alertmanager) echo prometheus-alertmanager ;;
    node-exporter) echo prometheus-node-exporter ;;
    process-exporter) echo prometheus-process-exporter ;;
  esac
}

# The URL that answers when the component is ready.
ready_url() {
  case $1 in
    prometheus) echo "http://$PROMETHEUS_ADDRESS/-/ready" ;;
    alertmanager) echo "http://$ALERTMANAGER_ADDRESS/-/ready" ;;
    node-exporter) echo "http://$NODE_EXPORTER_ADDRESS/metrics" ;;
    process-exporter) echo "http://$PROCESS_EXPORTER_ADDRESS/metrics" ;;
  esac
}

command_line() {
  local bin
  # Each binary has its Debian package's name.
  bin=$(command -v "$(binary "$1")") || die "$(binary "$1") not found (apt-get install $(binary "$1"))"
  case $1 in
    prometheus)
      echo "$bin" --config.file="$DIR/etc/prometheus.yml" --storage.tsdb.path="$DIR/prometheus" \
        --storage.tsdb.retention.time="$PROMETHEUS_RETENTION" --web.listen-address="$PROMETHEUS_ADDRESS" \
        --web.enable-admin-api
      ;;
    alertmanager)
      # An empty cluster address turns clustering off (else it listens on 0.0.0.0:9094).
      echo "$bin" --config.file="$DIR/etc/alertmanager.yml" --storage.path="$DIR/alertmanager" \
        --web.listen-address="$ALERTMANAGER_ADDRESS" --cluster.listen-address=
      ;;
    node-exporter)
      echo "$bin" --web.listen-address="$NODE_EXPORTER_ADDRESS"
      ;;
    process-exporter)
      echo "$bin" -web.listen-address="$PROCESS_EXPORTER_ADDRESS" -config.path="$DIR/etc/process-exporter.yml" -children=false
      ;;
  esac
}

pid_of() {
  local file=$DIR/run/$1.pid pid
  [[ -s $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  # The PID must still be our binary (PIDs are reused).
  [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == *"$(binary "$1")"* ]] || return 1
  echo "$pid"
}

answers() { curl -fsS -o /dev/null --max-time 2 "$(ready_url "$1")" 2>/dev/null; }

render_config() {
  local file
  for file in prometheus.yml alerts.yml alertmanager.yml process-exporter.yml; do
    [[ -r $CONFIG_DIR/$file ]] || die "$CONFIG_DIR/$file not found (set MONITORING_CONFIG_DIR)"
  done
  mkdir -p "$DIR/etc" "$DIR/run" "$DIR/logs" "$DIR/prometheus" "$DIR/alertmanager" "$DIR/backups"
  sed -e "s/127\.0\.0\.1:9901/$EDGE_METRICS_ADDRESS/; s/127\.0\.0\.1:9102/$BACKEND_METRICS_ADDRESS/" \
    -e "s/127\.0\.0\.1:9100/$NODE_EXPORTER_ADDRESS/; s/127\.0\.0\.1:9256/$PROCESS_EXPORTER_ADDRESS/" \
    -e "s/127\.0\.0\.1:9093/$ALERTMANAGER_ADDRESS/; s/127\.0\.0\.1:9090/$PROMETHEUS_ADDRESS/" \
    -e "s/^\(  scrape_interval:\|  evaluation_interval:\) 15s/\1 $SCRAPE_INTERVAL/" \
    "$CONFIG_DIR/prometheus.yml" >"$DIR/etc/prometheus.yml"
  cp "$CONFIG_DIR/alerts.yml" "$CONFIG_DIR/alertmanager.yml" "$CONFIG_DIR/process-exporter.yml" "$DIR/etc/"
  if ((${#RUN_AS[@]})); then chown -R prometheus: "$DIR"; fi
  promtool check config "$DIR/etc/prometheus.yml" >"$DIR/logs/promtool.log" 2>&1 ||
    { cat "$DIR/logs/promtool.log" >&2; die "prometheus.yml does not pass promtool check config"; }
}

start_one() {
  local name=$1 pid i
  if pid=$(pid_of "$name"); then
    log "$name already running (pid $pid)"
    return 0
  fi
  local -a cmd
  read -r -a cmd <<<"$(command_line "$name")"
  # setsid: its own session, so a Ctrl-C in this terminal does not reach it. Not a fork
  # (this subshell is no group leader), so $! is the daemon itself. Descriptors other than
  # 0-2 that this script inherited are closed first: a daemon must not hold its caller's pipes.
  (
    for fd in "/proc/$BASHPID/fd/"*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec setsid "${RUN_AS[@]}" "${cmd[@]}"
  ) </dev/null >>"$DIR/logs/$name.log" 2>&1 &
  pid=$!
  echo "$pid" >"$DIR/run/$name.pid"
  for ((i = 0; i < READY_TIMEOUT * 5; i++)); do
    if answers "$name"; then
      log "$name ready (pid $pid, $(ready_url "$name"))"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  tail -n 20 "$DIR/logs/$name.log" >&2
  die "$name did not answer on $(ready_url "$name") within ${READY_TIMEOUT}s"
}

stop_one() {
  local name=$1 pid i
  pid=$(pid_of "$name") || { rm -f "$DIR/run/$name.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_GRACE * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) still running after ${STOP_GRACE}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$DIR/run/$name.pid"
  log "$name stopped"
}

status() {
  local name pid rc=0
  for name in "${COMPONENTS[@]}"; do
    if pid=$(pid_of "$name"); then
      if answers "$name"; then
        printf '%-17s running  pid %-7s %s\n' "$name" "$pid" "$(ready_url "$name")"
      else
        printf '%-17s starting pid %-7s %s (not answering)\n' "$name" "$pid" "$(ready_url "$name")"
        rc=3
      fi
    else
      printf '%-17s stopped\n' "$name"
      rc=3
    fi
  done
  return "$rc"
}

logs() {
  local only=${1:-} lines=${2:-50} name
  for name in "${COMPONENTS[@]}"; do
    [[ -z $only || $only == "$name" ]] || continue
    echo "==> $DIR/logs/$name.log <=="
    tail -n "$lines" "$DIR/logs/$name.log" 2>/dev/null || echo "(no log yet)"
  done
}

# A TSDB snapshot (hard links, cheap, consistent) plus the configuration, then the snapshot
# directory is removed again.
backup() {
  pid_of prometheus >/dev/null || die "prometheus is not running (the snapshot is taken through its admin API)"
  local answer name archive
  answer=$(curl -fsS --max-time 120 -X POST "http://$PROMETHEUS_ADDRESS/api/v1/admin/tsdb/snapshot") ||
    die "snapshot request failed"
  name=$(jq -r '.data.name // empty' <<<"$answer")
  [[ -n $name && -d $DIR/prometheus/snapshots/$name ]] || die "unexpected snapshot answer: $answer"
  archive=$DIR/backups/prometheus-$(date -u +%Y%m%dT%H%M%SZ).tar.gz
  tar -C "$DIR" -czf "$archive" "prometheus/snapshots/$name" etc
  rm -rf -- "${DIR:?}/prometheus/snapshots/$name"
  jq -cn --arg archive "$archive" --argjson bytes "$(stat -c %s "$archive")" \
    '{event: "monitoring_backup", status: "ok", archive: $archive, bytes: $bytes}'
}

case ${1:-} in
  start)
    render_config
    for name in "${COMPONENTS[@]}"; do start_one "$name"; done
    ;;
  stop)
    for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do stop_one "${COMPONENTS[i]}"; done
    ;;
  status) status ;;
  logs) shift; logs "$@" ;;
  backup) backup ;;
  *) usage ;;
esac
