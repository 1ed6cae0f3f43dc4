#!/usr/bin/env bash
# Install the Debian packages gnomon needs to build and test. Idempotent: installs only what is missing
# and prints what it installs. Usage: scripts/install-deps.sh [build|test]
set -euo pipefail
what=${1:-build}
build_pkgs=(gcc make cmake pkg-config libuv1-dev libjansson-dev libmicrohttpd-dev libsqlite3-dev
  libcurl4-openssl-dev libicu-dev libgraphviz-dev libzookeeper-mt-dev libpq-dev)
test_pkgs=(libcmocka-dev python3 curl python3-aiosmtpd)
pkgs=("${build_pkgs[@]}")
[ "$what" = test ] && pkgs+=("${test_pkgs[@]}")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
