#!/usr/bin/env bash
# Installs the OS packages Turnpike's build and tests need, only those missing. Idempotent.
set -euo pipefail

# The JDK and Maven build everything; the networking tools are what the dataplane programs and what
# the lab and the real-kernel tests drive.
PACKAGES=(openjdk-17-jdk-headless maven iptables iproute2 conntrack nftables python3)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A JDK or Maven installed another way (for example a preinstalled toolchain) counts as present.
if command -v javac >/dev/null && command -v mvn >/dev/null; then
  missing=("${missing[@]/openjdk-17-jdk-headless}")
  missing=("${missing[@]/maven}")
fi
read -r -a missing <<<"${missing[*]}"

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages ${missing[*]}; run as root" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The IPVS VM (docs/ipvs-vm.md): qemu, busybox for its initramfs, kmod to resolve module
# dependencies, ipvsadm to compare with, and Debian's linux-image-amd64 unpacked into a cache (not
# installed: the host's /boot stays as it is). Best effort: when any of it cannot be had, the VM
# test says so loudly and skips; everything else still runs.
"$(dirname "$0")/install-vm-deps.sh" || echo "install-deps: WARNING: the IPVS VM's packages could not be installed;" \
  "the VM test (IpvsVmTest) will be skipped" >&2
