#!/usr/bin/env bash
# Installs what hack/vm-run.sh needs (docs/ipvs-vm.md), only what is missing; quiet when all is
# there. The kernel is Debian's linux-image-amd64, fetched with apt and unpacked under
# $TURNPIKE_VM_CACHE (default /var/cache/turnpike-vm/<package>/), never installed over /boot.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${TURNPIKE_VM_CACHE:-/var/cache/turnpike-vm}
PACKAGES=(qemu-system-x86 busybox-static kmod ipvsadm)
export DEBIAN_FRONTEND=noninteractive
updated=0
apt_update() { ((updated)) || apt-get update -qq; updated=1; }

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})) || [[ ! -d $CACHE ]] || ! ls "$CACHE"/linux-image-*/boot/vmlinuz-* >/dev/null 2>&1; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-vm-deps: missing ${missing[*]:-} ${CACHE}/linux-image-*; run as root" >&2
    exit 1
  fi
fi
if ((${#missing[@]})); then
  echo "install-vm-deps: installing ${missing[*]}"
  apt_update
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# linux-image-amd64 is a metapackage; the kernel is in the linux-image-<version>-amd64 it depends
# on. An unpacked kernel is kept; a newer candidate is fetched next to it (vm-run.sh boots the
# newest).
kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
pkg=$(kernel_package)
if [[ -z $pkg ]]; then
  apt_update
  pkg=$(kernel_package)
fi
if [[ -z $pkg ]]; then
  ls "$CACHE"/linux-image-*/boot/vmlinuz-* >/dev/null 2>&1 && exit 0
  echo "install-vm-deps: apt knows no linux-image-amd64 and no kernel is cached in $CACHE" >&2
  exit 1
fi
dir=$CACHE/$pkg
if ! ls "$dir"/boot/vmlinuz-* >/dev/null 2>&1; then
  echo "install-vm-deps: fetching $pkg into $dir"
  mkdir -p "$CACHE"
  tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  # apt's _apt user must be able to write where it downloads.
  chmod 0755 "$tmp"
  chown _apt "$tmp" 2>/dev/null || true
  (cd "$tmp" && apt-get download -qq "$pkg" 2>&1 | grep -v 'unsandboxed' >&2 || true)
  deb=$(ls "$tmp"/*.deb 2>/dev/null | head -1 || true)
  [[ -n $deb ]] || { echo "install-vm-deps: apt-get download $pkg failed" >&2; exit 1; }
  mkdir -p "$tmp/root"
  dpkg-deb -x "$deb" "$tmp/root"
  kver=$(ls "$tmp/root/boot" | sed -n 's/^vmlinuz-//p' | head -1)
  [[ -n $kver ]] || { echo "install-vm-deps: no vmlinuz in $pkg" >&2; exit 1; }
  # dpkg-deb -x does not run the package's depmod; modprobe inside the VM needs modules.dep.
  depmod -b "$tmp/root" "$kver"
  rm -rf "$dir"
  mv "$tmp/root" "$dir"
fi
