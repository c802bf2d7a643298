#!/usr/bin/env bash
# HomeRack restore: puts an archive written by backup.sh back, into an empty database.
#
#   restore.sh [--config FILE] [--force] ARCHIVE
#
# 1. Verifies the archive (backup.sh --verify: checksums, readable dump); a damaged one is
#    refused before anything is touched.
# 2. Restores the database named by the backend's configuration (HOMERACK_CONFIG,
#    /etc/homerack/backend.env by default; the environment wins): PostgreSQL with pg_restore in
#    one transaction, SQLite by moving the copy into place. A database that already has tables
#    (or a SQLite file that exists) is refused unless --force: then PostgreSQL objects of the
#    dump are dropped and recreated (--clean) and the SQLite file is replaced.
# 3. Restores the uploads directory (refused when not empty, unless --force: then emptied first).
# 4. Counts the rows of every table and prints them against the archive's metadata.
#
# Stop the backend first (systemctl stop homerack-backend): a restore under running workers
# mixes old and new rows, and SQLite's file is replaced underneath them.
# The archive kind must match the target's (a SQLite archive into PostgreSQL goes through
# restore into a SQLite file, then `homerack-backend copy-database`).
#
# One JSON line on standard output; exit codes:
#   0 restored, counts match   1 failed   2 usage   4 archive damaged   5 target not empty
#   6 restored but the counts differ from the metadata
# shellcheck disable=SC2016,SC2317  # jq programs with jq's $variables; functions called from traps
set -euo pipefail
umask 027

readonly EXIT_FAILED=1 EXIT_USAGE=2 EXIT_CORRUPT=4 EXIT_NOT_EMPTY=5 EXIT_MISMATCH=6
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONFIG=${HOMERACK_CONFIG:-/etc/homerack/backend.env}
FORCE=0
ARCHIVE=""
WORK=""
STARTED=$(date +%s)

usage() {
  sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit "$EXIT_USAGE"
}

emit() {
  local status=$1
  shift
  jq -cn --arg event restore --arg status "$status" --arg host "$(hostname)" \
    --argjson seconds "$(($(date +%s) - STARTED))" "$@"
}

fail() {
  local code=$1
  shift
  emit error --arg error "$*" '{event: $event, status: $status, host: $host, seconds: $seconds, error: $error}'
  exit "$code"
}

cleanup() {
  [[ -n $WORK && -d $WORK ]] && rm -rf -- "$WORK"
  return 0
}
trap cleanup EXIT

while (($#)); do
  case $1 in
    --config) CONFIG=${2:?}; shift 2 ;;
    --force) FORCE=1; shift ;;
    -h | --help) usage ;;
    -*) echo "restore.sh: unknown option: $1" >&2; usage ;;
    *) [[ -z $ARCHIVE ]] || usage; ARCHIVE=$1; shift ;;
  esac
done
[[ -n $ARCHIVE ]] || usage
ARCHIVE=$(realpath -- "$ARCHIVE")

# The configuration parsing and the count queries are backup.sh's: one definition of each.
# shellcheck source=deploy/backup.sh disable=SC1091
source <(sed -n '/^# -\{10,\} configuration/,/^# -\{10,\} archive/p' "$HERE/backup.sh")
export HOMERACK_CONFIG=$CONFIG

# 1. Verify (also extracts the parts).
WORK=$(mktemp -d)
verify_out=$("$HERE/backup.sh" --verify "$ARCHIVE" 2>&1) || {
  rc=$?
  fail "$( ((rc == EXIT_CORRUPT)) && echo "$EXIT_CORRUPT" || echo "$EXIT_FAILED")" \
    "refused: $(jq -r '.error // empty' <<<"$verify_out" 2>/dev/null || echo "$verify_out")"
}
tar -C "$WORK" -xzf "$ARCHIVE"
META=$WORK/metadata.json
KIND=$(jq -r .database "$META")

resolve_targets
[[ $KIND == "$DB_KIND" ]] ||
  fail "$EXIT_USAGE" "the archive holds a $KIND database but the configuration names a $DB_KIND one"

# 2. Database.
case $DB_KIND in
  postgresql)
    tables=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$PG_URL" \
      -c "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()" 2>&1) ||
      fail "$EXIT_FAILED" "psql: $tables"
    if ((tables > 0 && FORCE == 0)); then
      fail "$EXIT_NOT_EMPTY" "the database has $tables tables; restore into an empty database, or pass --force to replace what the archive holds"
    fi
    clean=()
    ((FORCE)) && clean=(--clean --if-exists)
    if ! err=$(pg_restore --no-owner --no-privileges --single-transaction --exit-on-error "${clean[@]}" \
        -d "$PG_URL" "$WORK/database.pgdump" 2>&1); then
      fail "$EXIT_FAILED" "pg_restore (nothing was changed: one transaction): $err"
    fi
    restored_counts=$(pg_counts "$PG_URL")
    ;;
  sqlite)
    if [[ -e $SQLITE_FILE && $FORCE -eq 0 ]]; then
      fail "$EXIT_NOT_EMPTY" "$SQLITE_FILE exists; restore into a new file, or pass --force to replace it"
    fi
    mkdir -p -- "$(dirname -- "$SQLITE_FILE")"
    # Into the target's directory first, then renamed: the file is either the old or the new one.
    tmp=$(mktemp "$(dirname -- "$SQLITE_FILE")/.restore.XXXXXX")
    cp -- "$WORK/database.sqlite" "$tmp"
    chmod 0640 "$tmp"
    # Owned like its directory (the service user's StateDirectory=) when run as root.
    if ((EUID == 0)); then chown --reference="$(dirname -- "$SQLITE_FILE")" "$tmp"; fi
    rm -f -- "$SQLITE_FILE-wal" "$SQLITE_FILE-shm"
    mv -f -- "$tmp" "$SQLITE_FILE"
    restored_counts=$(sqlite_counts "$SQLITE_FILE")
    ;;
esac

# 3. Uploads.
mkdir -p -- "$UPLOADS"
if [[ -n $(ls -A -- "$UPLOADS") ]]; then
  ((FORCE)) || fail "$EXIT_NOT_EMPTY" "$UPLOADS is not empty; pass --force to replace its contents (the database is restored)"
  find "$UPLOADS" -mindepth 1 -delete
fi
tar -C "$UPLOADS" -xf "$WORK/uploads.tar" --no-same-owner
if ((EUID == 0)); then chown -R --reference="$UPLOADS" "$UPLOADS"; fi
restored_files=$(find "$UPLOADS" -type f | wc -l)

# 4. Report.
report=$(jq -c --argjson restored "$restored_counts" --argjson files "$restored_files" '
  . as $m
  | [ ($m.row_counts | keys) + ($restored | keys) | unique[] as $t
      | {table: $t, expected: $m.row_counts[$t], restored: $restored[$t]} ] as $tables
  | {tables: $tables, mismatched: [$tables[] | select(.expected != .restored) | .table],
     upload_files: {expected: $m.upload_files, restored: $files}}' "$META")
status=ok
code=0
if [[ $(jq '(.mismatched | length) > 0 or .upload_files.expected != .upload_files.restored' <<<"$report") == true ]]; then
  status=mismatch
  code=$EXIT_MISMATCH
fi
emit "$status" --arg archive "$ARCHIVE" --argjson report "$report" --slurpfile meta "$META" \
  '{event: $event, status: $status, host: $host, seconds: $seconds, archive: $archive,
    created_at: $meta[0].created_at, database: $meta[0].database, schema_version: $meta[0].schema_version}
   + $report'
exit "$code"
