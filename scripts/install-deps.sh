#!/usr/bin/env bash
# Install the Debian packages gnomon needs to build, test or benchmark. Idempotent: installs only what is
# missing and prints what it installs. Usage: scripts/install-deps.sh [build|test|bench]
#   build  compiler, CMake and the libraries
#   test   build + cmocka, Python and curl for the unit and integration tests
#   bench  build + what bench/* runs: wrk (bench/jobs-api), Python (every script; sqlite3 is in its standard
#          library); bench/spawnref.c and bench/execbench.c are compiled with the build's gcc and pkg-config
set -euo pipefail
what=${1:-build}
build_pkgs=(gcc make cmake pkg-config libuv1-dev libjansson-dev libmicrohttpd-dev libsqlite3-dev
  libcurl4-openssl-dev libicu-dev libgraphviz-dev libzookeeper-mt-dev libpq-dev)
test_pkgs=(libcmocka-dev python3 curl python3-aiosmtpd)
bench_pkgs=(wrk python3)
pkgs=("${build_pkgs[@]}")
case "$what" in
  build) ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${bench_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac
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
