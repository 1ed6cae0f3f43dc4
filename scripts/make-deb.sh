#!/usr/bin/env bash
# Build the Debian package of gnomon into BUILD_DIR (default build): the release build there (configured and built
# if it is not yet) installed under /usr into a staging root (BUILD_DIR/pkgroot), the units, configuration and
# maintainer scripts of packaging/, the shared-library dependencies as dpkg-shlibdeps finds them, then dpkg-deb.
# Prints the package's path on its last line. Needs help2man (the manual pages): `make deb` installs it.
# Usage: scripts/make-deb.sh [BUILD_DIR]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${1:-$src/build}")
root="$build/pkgroot"

[ -f "$build/CMakeCache.txt" ] || cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target gnomon docs >/dev/null
for f in man/gnomon.1 man/gnomon-server.8 man/gnomon-agent.8 completion/gnomon; do
  [ -s "$build/$f" ] || { echo "make-deb: $build/$f was not generated (help2man missing?)" >&2; exit 1; }
done
rm -rf "$root"
DESTDIR="$root" cmake --install "$build" --prefix /usr >/dev/null
# debug symbols stay in the build; the package gets stripped programs
for p in "$root"/usr/libexec/gnomon/*; do
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$p"
done
gzip -9n "$root"/usr/share/man/man*/*
install -D -m 0644 "$src/packaging/gnomon-server.service" "$root/lib/systemd/system/gnomon-server.service"
install -D -m 0644 "$src/packaging/gnomon-agent.service" "$root/lib/systemd/system/gnomon-agent.service"
install -D -m 0644 "$src/packaging/server.conf" "$root/etc/gnomon/server.conf"
install -D -m 0644 "$src/packaging/agent.conf" "$root/etc/gnomon/agent.conf"
install -D -m 0644 "$src/packaging/debian/copyright" "$root/usr/share/doc/gnomon/copyright"
install -D -m 0644 "$src/README.md" "$root/usr/share/doc/gnomon/README.md"
gzip -9n "$root/usr/share/doc/gnomon/README.md"

version=$("$build/gnomon" --version | awk '{print $2}')
arch=$(dpkg --print-architecture)
# dpkg-shlibdeps reads debian/control of a source tree: a minimal one in a scratch dir
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/debian"
printf 'Source: gnomon\n\nPackage: gnomon\nArchitecture: any\n' > "$scratch/debian/control"
depends=$(cd "$scratch" && dpkg-shlibdeps -O "$root"/usr/libexec/gnomon/gnomon "$root"/usr/libexec/gnomon/gnomon-agent \
  2> >(grep -v "should already be installed in their package" >&2) | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "make-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
mkdir -p "$root/DEBIAN"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" \
  "$src/packaging/debian/control.in" > "$root/DEBIAN/control"
install -m 0755 "$src/packaging/debian/postinst" "$src/packaging/debian/prerm" "$src/packaging/debian/postrm" \
  "$root/DEBIAN/"
install -m 0644 "$src/packaging/debian/conffiles" "$root/DEBIAN/"
deb="$build/gnomon_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
