#!/usr/bin/env bash
# Installs Ceph's RADOS Gateway and the daemons behind it (Debian's radosgw, ceph-mon, ceph-osd,
# ceph-common) for the end-to-end tests that run against RGW (tests/helpers/rgw.ts).
# Idempotent: does nothing when the binaries are already there. Needs root (as CI is) or sudo.
# Only installs: it starts no service (tests/helpers/rgw.ts runs the daemons itself).
set -euo pipefail

binaries=(ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool)
packages=(radosgw ceph-mon ceph-osd ceph-common)

missing=()
for binary in "${binaries[@]}"; do
  command -v "$binary" >/dev/null 2>&1 || missing+=("$binary")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install_rgw: ceph binaries present ($(radosgw --version 2>/dev/null | head -1))"
  exit 0
fi
echo "install_rgw: missing ${missing[*]}: installing ${packages[*]}"

# apt-get needs root: as root (CI) directly, otherwise through sudo when there is one.
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo --preserve-env=DEBIAN_FRONTEND)
  else
    echo "install_rgw: must run as root, or with sudo on PATH (apt-get install)" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
  "${as_root[@]}" apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${packages[@]}"
}
if ! apt_install; then
  echo "install_rgw: install failed; running apt-get update and trying again"
  "${as_root[@]}" apt-get update -q
  apt_install
fi

for binary in "${binaries[@]}"; do
  if ! command -v "$binary" >/dev/null 2>&1; then
    echo "install_rgw: $binary still missing after installing ${packages[*]}" >&2
    exit 1
  fi
done
echo "install_rgw: installed $(radosgw --version | head -1)"
