#!/usr/bin/env bash
# Install the Debian packages gnomon needs to build, test or benchmark. Idempotent: installs only what is
# missing and prints what it installs. Usage: scripts/install-deps.sh [build|test|bench|cluster|deb]
#   build  compiler, CMake, the libraries, and tzdata (the tz database gnomon reads its zones from at run time)
#   test   build + cmocka, Python, curl, aiosmtpd and prometheus_client (its exposition parser) for the unit and
#          integration tests, clang and its libFuzzer runtime for the fuzz targets, Chromium, Node.js and the npm
#          packages of tests/browser for the browser tests, ZooKeeper (a real ensemble on loopback for the HA
#          tests: Debian's zookeeper package, whose default-jre dependency brings Java) and the PostgreSQL server
#          (a throwaway cluster per test run, tests/support/pg_cluster.py), iproute2 and iptables (tests/chaos:
#          network namespaces, partitions), libfaketime (a server's or an agent's wall clock moved: tests/chaos,
#          tests/integration/test_pg_clock_offset.py), podman with crun, uidmap, catatonit (its --init) and netavark, and
#          busybox-static (tests/integration/test_containers.py imports its image from it; bench/containers too)
#   bench  build + what bench/* runs: wrk (bench/jobs-api), Python (every script; sqlite3 is in its standard
#          library), ZooKeeper and the PostgreSQL server (bench/failover), podman and busybox-static
#          (bench/containers); bench/spawnref.c and
#          bench/execbench.c are compiled with the build's gcc and pkg-config
#   cluster build + ZooKeeper, the PostgreSQL server and Python (make cluster: scripts/cluster.py)
#   deb    build + help2man (the manual pages, from --help) and dpkg-dev (dpkg-shlibdeps): make deb
set -euo pipefail
what=${1:-build}
build_pkgs=(gcc make cmake pkg-config libuv1-dev libjansson-dev libsqlite3-dev
  libcurl4-openssl-dev libgraphviz-dev libzookeeper-mt-dev libpq-dev libhttp-parser-dev nettle-dev libssl-dev tzdata)
test_pkgs=(libcmocka-dev python3 curl openssl python3-aiosmtpd python3-prometheus-client clang libclang-rt-dev chromium
  zookeeper postgresql help2man dpkg-dev iproute2 iptables libfaketime podman crun uidmap catatonit netavark busybox-static)
bench_pkgs=(wrk python3 zookeeper postgresql podman crun uidmap catatonit busybox-static)
pkgs=("${build_pkgs[@]}")
case "$what" in
  build) ;;
  test) pkgs+=("${test_pkgs[@]}")
    # The browser tests need node and npm; Debian's packages only when neither is there already.
    command -v node >/dev/null && command -v npm >/dev/null || pkgs+=(nodejs npm) ;;
  bench) pkgs+=("${bench_pkgs[@]}") ;;
  cluster) pkgs+=(python3 zookeeper postgresql) ;;
  deb) pkgs+=(help2man dpkg-dev python3) ;;
  *) echo "usage: $0 [build|test|bench|cluster|deb]" >&2; exit 2 ;;
esac
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
