#!/usr/bin/env bash
# The planner's end-to-end test in a real browser (Tests/Browser/planner_e2e.py): headless
# Chromium driven by Selenium through the edge, against the built homerack-backend (SQLite) and
# homerack-edge (config/edge.dev.yaml), both started by the test on free loopback ports.
# scripts/test.sh runs it after `swift test`; it also runs alone:
#
#   scripts/test-browser.sh                      screenshots and logs in test-results/browser/
#   README_SCREENSHOT=1 scripts/test-browser.sh  also refreshes docs/images/rack-planner.png
#
# 1. Installs Debian's chromium and chromium-driver and python3-venv when missing.
# 2. Makes .venv-e2e/ with the pinned Python packages of Tests/Browser/requirements.txt.
# 3. Builds homerack-backend and homerack-edge (debug; nothing to do after `swift test`).
# 4. Runs the test, which prints one line per step and `N passed, N failed`; exits with its status.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/lib/debian-packages.sh
source scripts/lib/debian-packages.sh
ensure_debian_packages chromium chromium-driver python3-venv openssl ||
    { echo "test-browser.sh: could not install chromium, chromium-driver and python3-venv" >&2; exit 1; }

venv=.venv-e2e
requirements=Tests/Browser/requirements.txt
if [[ ! -x $venv/bin/python ]] || ! cmp -s "$requirements" "$venv/requirements.installed"; then
    echo "test-browser.sh: installing $requirements into $venv/"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/requirements.installed"
fi

echo "test-browser.sh: building homerack-backend and homerack-edge (debug)"
swift build --product homerack-backend
swift build --product homerack-edge
bin="$(swift build --show-bin-path)"

args=(--bin "$bin" --results test-results/browser)
[[ ${README_SCREENSHOT:-} == 1 ]] && args+=(--readme-screenshot docs/images/rack-planner.png)
# Selenium Manager must not look for drivers on the network: the Debian driver is given.
export SE_OFFLINE=true
exec "$venv/bin/python" Tests/Browser/planner_e2e.py "${args[@]}"
