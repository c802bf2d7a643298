# shellcheck shell=bash
# The Debian packages the project needs, in one place, and the one step that installs them.
# Sourced by scripts/run.sh (build + run) and scripts/test.sh (build + run + test):
#
#   source scripts/lib/debian-packages.sh
#   ensure_debian_packages "${BUILD_PACKAGES[@]}" "${RUN_PACKAGES[@]}"
#
# BUILD_PACKAGES: every system library the Swift targets link against (Package.swift's
#                 system-library targets name the same packages in their `providers`).
# RUN_PACKAGES:   what scripts/run.sh needs to start the stack (certificate, readiness probe).
# TEST_PACKAGES:  the servers and tools the test suite starts or runs (the deploy/ and monitoring/
#                 tools included: PRODUCTION_SETUP.md installs the same packages on a host;
#                 Chromium, its driver and python3-venv for the browser test, scripts/test-browser.sh).
# Tests/IntegrationTests/DebianPackagesTests.swift checks that every system library named in
# Package.swift is in BUILD_PACKAGES.

BUILD_PACKAGES=(libhiredis-dev zlib1g-dev libssl-dev libnghttp2-dev)
RUN_PACKAGES=(openssl curl)
TEST_PACKAGES=(postgresql redis-server
  # Tests/OperationsTests: backups (pg_dump, sqlite3, jq), monitoring (promtool, amtool and the
  # exporters deploy/monitoring.sh starts), units (systemd-analyze), compose, logrotate, shellcheck.
  postgresql-client sqlite3 jq procps systemd
  prometheus prometheus-alertmanager prometheus-node-exporter prometheus-process-exporter
  docker-compose logrotate shellcheck
  # scripts/test-browser.sh: the planner in headless Chromium.
  chromium chromium-driver python3-venv
  # Tests/EdgeIOTests/HTTP2ServerTests: nghttp and h2load, real HTTP/2 clients.
  nghttp2-client
  # bench/backend-load (run through scripts/test.sh --with-servers): the HTTP load generator.
  wrk)

# ensure_debian_packages PKG...: installs the packages that are not installed yet (apt-get as
# root, or through sudo), quietly; on failure prints apt's output and returns 1.
ensure_debian_packages() {
  local pkg status missing=() sudo=()
  for pkg in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      printf 'missing Debian packages: %s (not root and sudo is not available; as root run: apt-get install %s)\n' \
        "${missing[*]}" "${missing[*]}" >&2
      return 1
    fi
  fi
  printf 'installing Debian packages: %s\n' "${missing[*]}" >&2
  local apt_log
  apt_log=$(mktemp)
  # Redirect inside a subshell, never on a command run in the caller's shell: a trap firing
  # meanwhile would otherwise run with stdout/stderr still redirected.
  if ! (exec >"$apt_log" 2>&1 </dev/null
        "${sudo[@]}" apt-get update -qq &&
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
          apt-get install -y -qq --no-install-recommends "${missing[@]}"); then
    cat "$apt_log" >&2
    rm -f "$apt_log"
    printf 'failed to install: %s\n' "${missing[*]}" >&2
    return 1
  fi
  rm -f "$apt_log"
}
