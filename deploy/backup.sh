#!/usr/bin/env bash
# HomeRack backup: the database (PostgreSQL or the embedded SQLite file) and the uploads
# directory, as one gzip'd archive per run with a metadata JSON, kept for RETENTION_DAYS.
#
#   backup.sh [--config FILE] [--dest DIR] [--retention-days N] [--now EPOCH]
#   backup.sh --verify ARCHIVE     checksums of every part, and that each part is readable
#   backup.sh --prune [...]        retention only, no new backup
#
# It reads DATABASE_URL, DATA_DIR and UPLOADS_DIR from the backend's configuration file
# (HOMERACK_CONFIG, /etc/homerack/backend.env by default; the environment wins, as it does for
# homerack-backend) and writes DEST/homerack-backup-YYYYMMDDTHHMMSSZ.tar.gz holding
#   metadata.json      time, host, app version, database kind, schema version (the highest
#                      version in schema_migrations), row counts per table, SHA-256 of each part
#   database.pgdump    PostgreSQL: pg_dump custom format, from the same snapshot as the counts
#   database.sqlite    SQLite: VACUUM INTO, an online consistent copy (never a cp of a live file)
#   uploads.tar        the uploads directory (brand logos)
#
# Only Debian tools (pg_dump/psql from postgresql-client, sqlite3, tar, gzip, sha256sum, flock,
# jq): no coupling to the homerack-backend binary, and the same tools a DBA already knows.
#
# Every run prints one JSON line on standard output (for cron mail or the journal) and exits:
#   0 done (or verified)   1 failed   2 usage   3 another run holds the lock   4 verification failed
#
# Settings (environment, or the options above):
#   BACKUP_DIR=/var/backups/homerack   RETENTION_DAYS=7   HOMERACK_BACKUP_NOW (EPOCH, for tests)
#   HOMERACK_BINARY=/usr/local/bin/homerack-backend (only hashed into the metadata)
# shellcheck disable=SC2016  # the single-quoted strings are jq programs, with jq's $variables
set -euo pipefail
umask 077

readonly EXIT_FAILED=1 EXIT_USAGE=2 EXIT_LOCKED=3 EXIT_CORRUPT=4
readonly ARCHIVE_PREFIX=homerack-backup-

CONFIG=${HOMERACK_CONFIG:-/etc/homerack/backend.env}
DEST=${BACKUP_DIR:-/var/backups/homerack}
RETENTION_DAYS=${RETENTION_DAYS:-7}
NOW=${HOMERACK_BACKUP_NOW:-}
MODE=backup
VERIFY_ARCHIVE=""
WORK=""
STARTED=$(date +%s)

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit "$EXIT_USAGE"
}

# emit STATUS [jq args...] FILTER: the run's one JSON line.
emit() {
  local status=$1
  shift
  jq -cn --arg event "$MODE" --arg status "$status" --arg host "$(hostname)" \
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
    --dest) DEST=${2:?}; shift 2 ;;
    --retention-days) RETENTION_DAYS=${2:?}; shift 2 ;;
    --now) NOW=${2:?}; shift 2 ;;
    --verify) MODE=verify; VERIFY_ARCHIVE=${2:?}; shift 2 ;;
    --prune) MODE=prune; shift ;;
    -h | --help) usage ;;
    *) echo "backup.sh: unknown argument: $1" >&2; usage ;;
  esac
done
[[ $RETENTION_DAYS =~ ^[0-9]+$ && $RETENTION_DAYS -ge 1 ]] || { echo "backup.sh: --retention-days must be a whole number >= 1" >&2; exit "$EXIT_USAGE"; }
[[ -z $NOW || $NOW =~ ^[0-9]+$ ]] || { echo "backup.sh: --now takes Unix seconds" >&2; exit "$EXIT_USAGE"; }
NOW=${NOW:-$(date +%s)}

for tool in jq tar gzip sha256sum flock; do
  command -v "$tool" >/dev/null 2>&1 || fail "$EXIT_FAILED" "$tool not found (apt-get install $tool)"
done

# --------------------------------------------------------------- configuration ---------------

# config_value KEY: the environment's value, else the configuration file's (KEY=VALUE lines,
# `#` comments, optional quotes), else empty. The file is parsed, never sourced.
config_value() {
  local key=$1 line value
  if [[ -n ${!key:-} ]]; then
    printf '%s' "${!key}"
    return
  fi
  [[ -r $CONFIG ]] || return 0
  line=$(grep -E "^[[:space:]]*(export[[:space:]]+)?${key}[[:space:]]*=" "$CONFIG" | tail -n 1 || true)
  [[ -n $line ]] || return 0
  value=${line#*=}
  value=${value#"${value%%[![:space:]]*}"}
  value=${value%"${value##*[![:space:]]}"}
  if [[ $value == \"*\" || $value == \'*\' ]]; then
    value=${value:1:${#value}-2}
  fi
  printf '%s' "$value"
}

# Sets DB_KIND (postgresql|sqlite), PG_URL (libpq form) or SQLITE_FILE, and UPLOADS.
resolve_targets() {
  local url data_dir
  url=$(config_value DATABASE_URL)
  data_dir=$(config_value DATA_DIR)
  data_dir=${data_dir:-./data}
  UPLOADS=$(config_value UPLOADS_DIR)
  UPLOADS=${UPLOADS:-$data_dir/uploads}
  case $url in
    postgres://* | postgresql://*)
      DB_KIND=postgresql
      PG_URL=$(libpq_url "$url")
      ;;
    sqlite:///*)
      DB_KIND=sqlite
      SQLITE_FILE=${url#sqlite:///}
      ;;
    "")
      DB_KIND=sqlite
      SQLITE_FILE=$data_dir/homerack.sqlite
      ;;
    *) fail "$EXIT_USAGE" "DATABASE_URL is neither postgres:// nor sqlite:///" ;;
  esac
}

# libpq_url URL: the backend's URL as libpq takes it. libpq refuses the search_path query
# parameter, which the backend accepts; it becomes PGOPTIONS instead.
libpq_url() {
  local url=$1 base query param kept=() search_path=""
  base=${url%%\?*}
  if [[ $url == *\?* ]]; then
    query=${url#*\?}
    IFS='&' read -r -a params <<<"$query"
    for param in "${params[@]}"; do
      case $param in
        search_path=*) search_path=${param#search_path=} ;;
        *) kept+=("$param") ;;
      esac
    done
  fi
  if [[ -n $search_path ]]; then
    export PGOPTIONS="-c search_path=${search_path//%2C/,}"
  fi
  if ((${#kept[@]})); then
    local IFS='&'
    printf '%s?%s' "$base" "${kept[*]}"
  else
    printf '%s' "$base"
  fi
}

# ------------------------------------------------------------------- database ----------------

# The counts query: every base table of the current schema with its row count, as JSON.
readonly PG_COUNTS_SQL="SELECT coalesce(json_object_agg(t.table_name, (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', t.table_schema, t.table_name), false, true, '')))[1]::text::bigint ORDER BY t.table_name), '{}') FROM information_schema.tables t WHERE t.table_schema = current_schema() AND t.table_type = 'BASE TABLE';"
# (Through query_to_xml: a plain subquery on schema_migrations fails to plan when it is missing.)
readonly PG_VERSION_SQL="SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 ELSE coalesce((xpath('/row/v/text()', query_to_xml('SELECT max(version) AS v FROM schema_migrations', false, true, '')))[1]::text::int, 0) END;"

# pg_counts URL: the counts JSON of the database at URL.
pg_counts() {
  psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$PG_COUNTS_SQL"
}

# sqlite_counts FILE: the counts JSON of a SQLite file.
sqlite_counts() {
  local file=$1 table sql=""
  while IFS= read -r table; do
    [[ -n $table ]] || continue
    sql+="${sql:+ UNION ALL }SELECT '${table//\'/\'\'}' AS t, count(*) AS c FROM \"${table//\"/\"\"}\""
  done < <(sqlite3 -readonly "$file" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
  if [[ -z $sql ]]; then
    echo '{}'
    return
  fi
  sqlite3 -readonly -json "$file" "$sql" | jq -c 'map({(.t): .c}) | add // {}'
}

sqlite_schema_version() {
  sqlite3 -readonly "$1" "SELECT CASE WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations') THEN (SELECT coalesce(max(version), 0) FROM schema_migrations) ELSE 0 END"
}

# dump_postgresql OUT_DIR: database.pgdump plus counts.json and schema_version, all from one
# exported snapshot (REPEATABLE READ), so the counts describe exactly what was dumped. pg_dump
# takes only ACCESS SHARE locks: writers are never blocked.
dump_postgresql() {
  local out=$1 snapshot line counts version
  command -v pg_dump >/dev/null 2>&1 || fail "$EXIT_FAILED" "pg_dump not found (apt-get install postgresql-client)"
  coproc PSQL { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$PG_URL" 2>"$out/psql.err"; }
  local to=${PSQL[1]} from=${PSQL[0]} pid=$PSQL_PID
  printf '%s\n' "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;" "SELECT pg_export_snapshot();" \
    "$PG_COUNTS_SQL" "$PG_VERSION_SQL" >&"$to"
  read -r -t 60 snapshot <&"$from" || fail "$EXIT_FAILED" "psql: $(cat "$out/psql.err")"
  read -r -t 600 counts <&"$from" || fail "$EXIT_FAILED" "psql: $(cat "$out/psql.err")"
  read -r -t 60 version <&"$from" || fail "$EXIT_FAILED" "psql: $(cat "$out/psql.err")"
  if ! pg_dump --format=custom --no-owner --snapshot="$snapshot" --file="$out/database.pgdump" \
      -d "$PG_URL" 2>"$out/pg_dump.err"; then
    fail "$EXIT_FAILED" "pg_dump: $(cat "$out/pg_dump.err")"
  fi
  printf 'COMMIT;\n\\q\n' >&"$to"
  wait "$pid" || true
  printf '%s' "$counts" >"$out/counts.json"
  printf '%s' "$version" >"$out/schema_version"
  rm -f "$out/psql.err" "$out/pg_dump.err"
}

# dump_sqlite OUT_DIR: database.sqlite (VACUUM INTO: one read transaction, so a consistent copy
# while workers keep writing; WAL readers never block writers), then counts from the copy.
dump_sqlite() {
  local out=$1
  command -v sqlite3 >/dev/null 2>&1 || fail "$EXIT_FAILED" "sqlite3 not found (apt-get install sqlite3)"
  [[ -f $SQLITE_FILE ]] || fail "$EXIT_FAILED" "no SQLite database at $SQLITE_FILE"
  local err
  if ! err=$(sqlite3 "$SQLITE_FILE" ".timeout 30000" "VACUUM INTO '${out//\'/\'\'}/database.sqlite'" 2>&1); then
    fail "$EXIT_FAILED" "sqlite3 VACUUM INTO: $err"
  fi
  sqlite_counts "$out/database.sqlite" >"$out/counts.json"
  sqlite_schema_version "$out/database.sqlite" >"$out/schema_version"
}

# ------------------------------------------------------------------- archive -----------------

app_version() {
  local binary=${HOMERACK_BINARY:-/usr/local/bin/homerack-backend}
  if [[ -n ${HOMERACK_VERSION:-} ]]; then
    printf '%s' "$HOMERACK_VERSION"
  elif [[ -x $binary ]] && "$binary" --version >/dev/null 2>&1; then
    "$binary" --version 2>/dev/null | head -n 1
  else
    printf 'unknown'
  fi
}

binary_sha256() {
  local binary=${HOMERACK_BINARY:-/usr/local/bin/homerack-backend}
  if [[ -r $binary ]]; then sha256sum "$binary" | cut -d' ' -f1; else printf ''; fi
}

# archive_time EPOCH: the timestamp in archive names (UTC, sorts as text).
archive_time() { date -u -d "@$1" +%Y%m%dT%H%M%SZ; }

# archive_epoch NAME: the Unix time in an archive's name, or nothing for another file.
archive_epoch() {
  local name=${1##*/} stamp
  [[ $name =~ ^${ARCHIVE_PREFIX}([0-9]{8})T([0-9]{2})([0-9]{2})([0-9]{2})Z\.tar\.gz$ ]] || return 1
  stamp="${BASH_REMATCH[1]} ${BASH_REMATCH[2]}:${BASH_REMATCH[3]}:${BASH_REMATCH[4]} UTC"
  date -u -d "$stamp" +%s
}

run_backup() {
  resolve_targets
  mkdir -p -- "$DEST"
  local name archive staging
  name="${ARCHIVE_PREFIX}$(archive_time "$NOW").tar.gz"
  archive="$DEST/$name"
  [[ ! -e $archive ]] || fail "$EXIT_FAILED" "$archive exists already"
  WORK=$(mktemp -d "$DEST/.backup-work.XXXXXX")
  staging=$WORK/parts
  mkdir "$staging"

  local db_part
  case $DB_KIND in
    postgresql) dump_postgresql "$WORK"; db_part=database.pgdump ;;
    sqlite) dump_sqlite "$WORK"; db_part=database.sqlite ;;
  esac
  mv "$WORK/$db_part" "$staging/"

  if [[ -d $UPLOADS ]]; then
    tar -C "$UPLOADS" -cf "$staging/uploads.tar" . 2>"$WORK/tar.err" || fail "$EXIT_FAILED" "tar: $(cat "$WORK/tar.err")"
  else
    tar -C "$WORK" -cf "$staging/uploads.tar" --files-from /dev/null
  fi
  local upload_files
  upload_files=$(tar -tf "$staging/uploads.tar" | grep -cv '/$' || true)

  jq -n \
    --arg created_at "$(date -u -d "@$NOW" +%Y-%m-%dT%H:%M:%SZ)" \
    --arg host "$(hostname)" \
    --arg app_version "$(app_version)" \
    --arg binary_sha256 "$(binary_sha256)" \
    --arg kind "$DB_KIND" \
    --arg db_part "$db_part" \
    --argjson schema_version "$(cat "$WORK/schema_version")" \
    --slurpfile counts "$WORK/counts.json" \
    --argjson upload_files "$upload_files" \
    --arg db_sha "$(sha256sum "$staging/$db_part" | cut -d' ' -f1)" \
    --arg uploads_sha "$(sha256sum "$staging/uploads.tar" | cut -d' ' -f1)" \
    '{format: 1, created_at: $created_at, host: $host, app_version: $app_version,
      app_binary_sha256: $binary_sha256, database: $kind, schema_version: $schema_version,
      row_counts: $counts[0], upload_files: $upload_files,
      parts: {($db_part): {sha256: $db_sha}, "uploads.tar": {sha256: $uploads_sha}}}' \
    >"$staging/metadata.json"

  # Written under a temporary name and renamed: a half-written archive never looks like a backup.
  tar -C "$staging" -cf - metadata.json "$db_part" uploads.tar | gzip -6 >"$WORK/$name"
  sync -f "$WORK/$name" 2>/dev/null || true
  mv "$WORK/$name" "$archive"

  local pruned
  pruned=$(prune | jq -R . | jq -sc .)
  emit ok --arg archive "$archive" --argjson bytes "$(stat -c %s "$archive")" \
    --slurpfile meta "$staging/metadata.json" --argjson pruned "$pruned" \
    '{event: $event, status: $status, host: $host, seconds: $seconds, archive: $archive, bytes: $bytes,
      database: $meta[0].database, schema_version: $meta[0].schema_version,
      row_counts: $meta[0].row_counts, upload_files: $meta[0].upload_files, pruned: $pruned}'
}

# prune: deletes archives older than RETENTION_DAYS (by the time in their names, relative to
# NOW), never the newest one; prints each deleted path.
prune() {
  local cutoff=$((NOW - RETENTION_DAYS * 86400)) file epoch newest="" newest_epoch=-1
  local -a candidates=()
  shopt -s nullglob
  for file in "$DEST/${ARCHIVE_PREFIX}"*.tar.gz; do
    epoch=$(archive_epoch "$file") || continue
    candidates+=("$epoch $file")
    if ((epoch > newest_epoch)); then newest_epoch=$epoch; newest=$file; fi
  done
  shopt -u nullglob
  local entry
  for entry in "${candidates[@]}"; do
    epoch=${entry%% *}
    file=${entry#* }
    if ((epoch < cutoff)) && [[ $file != "$newest" ]]; then
      rm -f -- "$file"
      printf '%s\n' "$file"
    fi
  done
}

# verify ARCHIVE: gzip intact, metadata present, every part's SHA-256 as recorded, the database
# part readable (pg_restore --list, or SQLite's integrity_check) and the uploads tar listable.
# On success leaves the extracted parts in $WORK/verify.
verify() {
  local archive=$1 dir part expected actual
  [[ -f $archive ]] || fail "$EXIT_CORRUPT" "$archive: no such file"
  WORK=${WORK:-$(mktemp -d)}
  dir=$WORK/verify
  mkdir -p "$dir"
  gzip -t "$archive" 2>/dev/null || fail "$EXIT_CORRUPT" "$archive: gzip data is damaged"
  tar -C "$dir" -xzf "$archive" 2>/dev/null || fail "$EXIT_CORRUPT" "$archive: tar data is damaged"
  if ! jq -e '.format == 1' "$dir/metadata.json" >/dev/null 2>&1; then
    fail "$EXIT_CORRUPT" "$archive: metadata.json missing or unreadable"
  fi
  while IFS=$'\t' read -r part expected; do
    [[ $part =~ ^[a-z.]+$ && -f $dir/$part ]] || fail "$EXIT_CORRUPT" "$archive: part $part missing"
    actual=$(sha256sum "$dir/$part" | cut -d' ' -f1)
    [[ $actual == "$expected" ]] || fail "$EXIT_CORRUPT" "$archive: $part checksum mismatch (expected $expected, got $actual)"
  done < <(jq -r '.parts | to_entries[] | [.key, .value.sha256] | @tsv' "$dir/metadata.json")
  case $(jq -r .database "$dir/metadata.json") in
    postgresql)
      pg_restore --list "$dir/database.pgdump" >/dev/null 2>&1 || fail "$EXIT_CORRUPT" "$archive: pg_restore cannot read database.pgdump"
      ;;
    sqlite)
      [[ $(sqlite3 -readonly "$dir/database.sqlite" "PRAGMA integrity_check" 2>&1) == ok ]] ||
        fail "$EXIT_CORRUPT" "$archive: database.sqlite fails integrity_check"
      ;;
    *) fail "$EXIT_CORRUPT" "$archive: unknown database kind" ;;
  esac
  tar -tf "$dir/uploads.tar" >/dev/null 2>&1 || fail "$EXIT_CORRUPT" "$archive: uploads.tar is unreadable"
}

# ----------------------------------------------------------------------- main ----------------

case $MODE in
  verify)
    verify "$VERIFY_ARCHIVE"
    emit ok --arg archive "$VERIFY_ARCHIVE" --slurpfile meta "$WORK/verify/metadata.json" \
      '{event: $event, status: $status, host: $host, seconds: $seconds, archive: $archive,
        created_at: $meta[0].created_at, database: $meta[0].database, schema_version: $meta[0].schema_version}'
    ;;
  backup | prune)
    mkdir -p -- "$DEST" 2>/dev/null || fail "$EXIT_FAILED" "cannot create $DEST"
    exec 9>"$DEST/.backup.lock"
    flock -n 9 || fail "$EXIT_LOCKED" "another backup run holds $DEST/.backup.lock"
    if [[ $MODE == backup ]]; then
      run_backup
    else
      pruned=$(prune | jq -R . | jq -sc .)
      emit ok --argjson pruned "$pruned" '{event: $event, status: $status, host: $host, seconds: $seconds, pruned: $pruned}'
    fi
    ;;
esac
