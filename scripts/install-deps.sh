#!/usr/bin/env bash
# Install the Debian packages gnomon needs to build and test. Idempotent: installs only what is missing
# and prints what it installs. Usage: scripts/install-deps.sh [build|test]
set -euo pipefail
what=${1:-build}
build_pkgs=(gcc make cmake pkg-config libuv1-dev libjansson-dev libmicrohttpd-dev libsqlite3-dev
  libcurl4-openssl-dev libicu-dev libgraphviz-dev libzookeeper-mt-dev libpq-dev)
test_pkgs=(libcmocka-dev python3 curl chromium)
pkgs=("${build_pkgs[@]}")
[ "$what" = test ] && pkgs+=("${test_pkgs[@]}")
# The browser tests need node and npm; Debian's packages only when neither is there already.
[ "$what" = test ] && { command -v node >/dev/null && command -v npm >/dev/null || pkgs+=(nodejs npm); }
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "install-deps: done"
fi
# tests/browser's npm packages (playwright-core), again when package-lock.json changed since the last install.
browser="$(dirname "$0")/../tests/browser"
if [ "$what" = test ] && ! cmp -s "$browser/package-lock.json" "$browser/node_modules/.installed-lock.json"; then
  echo "install-deps: npm ci in tests/browser"
  (cd "$browser" && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.installed-lock.json)
fi
