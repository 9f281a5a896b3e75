#!/usr/bin/env bash
# Runs one command inside a throwaway VM whose kernel has IPVS (the host's may not): Debian's
# linux-image-amd64 under qemu (TCG by default), the host's root filesystem shared read-only over
# virtio-9p with a tmpfs overlay on top (so /work, the JDK and ~/.m2 are visible and nothing the VM
# writes reaches the host), no network device to the outside. Prints the command's output (stdout
# and stderr, merged) and exits with its exit code. See docs/ipvs-vm.md.
#
#   hack/vm-run.sh [--timeout SECONDS] [--mem MB] [--cpus N] [--accel tcg|kvm] [--rw DIR]...
#                  [--modules 'ip_vs ...'] [--verbose] [--check] -- COMMAND [ARG]...
#
# Exit codes: the command's own; 124 when the timeout hit; 125 when the VM could not be started or
# did not boot, qemu or the kernel missing included (the reason is printed). --check only checks
# that qemu and the kernel are there (0, or 125 with the reason) and boots nothing.
set -euo pipefail

CACHE=${TURNPIKE_VM_CACHE:-/var/cache/turnpike-vm}
timeout_s=${TURNPIKE_VM_TIMEOUT:-300}
mem=${TURNPIKE_VM_MEM:-2048}
cpus=${TURNPIKE_VM_CPUS:-2}
accel=${TURNPIKE_VM_ACCEL:-tcg}
# IPVS and its schedulers, the dummy link for virtual IPs, veth for the namespaces tests build,
# and what iptables/nft in IPVS mode use. Loaded before the command; failures are fatal.
modules="ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh ip_vs_mh ip_vs_sed ip_vs_nq ip_vs_dh
  ip_vs_lblc ip_vs_lblcr ip_vs_fo ip_vs_ovf dummy veth nf_conntrack nf_nat"
rw_dirs=()
verbose=0
check=0

die() { echo "vm-run: $*" >&2; exit 125; }
usage() { sed -n '/^#   hack/,/^#                  \[--modules/p' "$0" | sed 's/^# //' >&2; exit 2; }

while (($#)); do
  case $1 in
    --timeout) timeout_s=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --accel) accel=$2; shift 2 ;;
    --rw) [[ -d $2 ]] || die "--rw $2: not a directory"; rw_dirs+=("$(realpath "$2")"); shift 2 ;;
    --modules) modules=$2; shift 2 ;;
    --verbose|-v) verbose=1; shift ;;
    --check) check=1; shift ;;
    --) shift; break ;;
    -h|--help) usage ;;
    -*) echo "vm-run: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
((check || $#)) || usage

# --- what we need on the host ---------------------------------------------------------------------
command -v qemu-system-x86_64 >/dev/null ||
  die "qemu-system-x86_64 not found (package qemu-system-x86; hack/install-deps.sh installs it)"
busybox=$(command -v busybox || true)
[[ -x /bin/busybox ]] && busybox=/bin/busybox
[[ -n $busybox ]] || die "busybox not found (package busybox-static; hack/install-deps.sh installs it)"
# The initramfs has no libc: a dynamically linked busybox (package busybox) cannot run /init.
[[ $(LC_ALL=C ldd "$busybox" 2>&1 || true) == *"not a dynamic executable"* ]] ||
  die "$busybox is dynamically linked; the initramfs needs package busybox-static"
command -v modprobe >/dev/null || die "modprobe not found (package kmod)"

# The newest kernel hack/install-deps.sh unpacked: $CACHE/<package>/boot/vmlinuz-<version>.
kernel_dir=${TURNPIKE_VM_KERNEL_DIR:-}
if [[ -z $kernel_dir ]]; then
  kernel_dir=$(ls -d "$CACHE"/linux-image-*/ 2>/dev/null | sort -V | tail -1 || true)
fi
kernel_dir=$(realpath -m "${kernel_dir:-/nonexistent}")
vmlinuz=$(ls "$kernel_dir"/boot/vmlinuz-* 2>/dev/null | head -1 || true)
[[ -n $kernel_dir && -f $vmlinuz ]] ||
  die "no kernel under $CACHE/linux-image-*/boot (hack/install-deps.sh fetches linux-image-amd64 there)"
kver=${vmlinuz##*/vmlinuz-}
moddir=$kernel_dir/lib/modules/$kver
[[ -f $moddir/modules.dep ]] || depmod -b "$kernel_dir" "$kver" || die "depmod failed for $moddir"

if ((check)); then
  echo "vm-run: ok: qemu $(qemu-system-x86_64 --version | head -1 | awk '{print $4}'), kernel $kver"
  exit 0
fi

# --- the initramfs (cached): busybox, virtio/9p/overlay modules, /init --------------------------
# /init mounts the host root (9p tag "hostroot", read-only) under a tmpfs overlay, mounts the run
# directory (tag "tprun") and the --rw directories, binds the kernel's modules over
# /lib/modules/<version> and switch_roots into the run directory's stage2.sh.
read -r -d '' INIT <<'EOF' || true
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
fail() { echo "turnpike-vm: init: $*"; echo o >/proc/sysrq-trigger; sleep 10; }
while read -r ko; do insmod "$ko" || fail "insmod $ko"; done </modules.load
mkdir -p /lower /rw /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /lower ||
  fail "cannot mount the host root over 9p"
mount -t tmpfs -o mode=0755 overlay-rw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
  fail "cannot mount the overlay"
mount -t tmpfs -o mode=0755 run /newroot/run
# /tmp stays the host's (read-only lower + tmpfs upper): a checkout under /tmp must be visible.
mkdir -p /newroot/run/turnpike-vm
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 tprun /newroot/run/turnpike-vm ||
  fail "cannot mount the run directory"
i=0
while read -r dir; do
  [ -n "$dir" ] || continue
  mkdir -p "/newroot$dir"
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 "rw$i" "/newroot$dir" || fail "cannot mount $dir"
  i=$((i + 1))
done </newroot/run/turnpike-vm/rw-dirs
kver=$(uname -r)
mkdir -p "/newroot/lib/modules/$kver"
mount --bind "/newroot$(cat /newroot/run/turnpike-vm/moddir)" "/newroot/lib/modules/$kver" ||
  fail "cannot bind the kernel's modules"
umount /proc /sys /dev
exec switch_root /newroot /bin/sh /run/turnpike-vm/stage2.sh
EOF
initrd_key=$(printf '%s\n%s\n' "$INIT" "$kernel_dir" | sha256sum | cut -c1-16)
initrd_dir=$kernel_dir
[[ -w $initrd_dir ]] || initrd_dir=${XDG_CACHE_HOME:-$HOME/.cache}/turnpike-vm
mkdir -p "$initrd_dir"
initrd=$initrd_dir/turnpike-initramfs-$kver-$initrd_key.cpio.gz
if [[ ! -f $initrd ]]; then
  build=$(mktemp -d)
  trap 'rm -rf "$build"' EXIT
  mkdir -p "$build"/{bin,proc,sys,dev,lib/modules}
  cp "$busybox" "$build/bin/busybox"
  printf '%s\n' "$INIT" >"$build/init"
  chmod +x "$build/init"
  : >"$build/modules.load"
  # The closure (in load order) of what mounting the root needs; modprobe prints it as insmod lines.
  for m in virtio_pci 9pnet_virtio 9p overlay; do
    modprobe -d "$kernel_dir" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
  done | awk '!seen[$0]++' | while read -r ko; do
    cp "$ko" "$build/lib/modules/"
    echo "/lib/modules/${ko##*/}" >>"$build/modules.load"
  done
  [[ -s $build/modules.load ]] || die "no modules found for the initramfs in $moddir"
  # Written aside and renamed: another vm-run may be building the same file at the same time.
  (cd "$build" && find . | "$busybox" cpio -o -H newc 2>/dev/null | gzip -1) >"$initrd.$$"
  mv "$initrd.$$" "$initrd"
  rm -rf "$build"
  trap - EXIT
fi

# --- the run directory: stage2.sh (PID 1 after switch_root), the command, its exit code ---------
run=$(mktemp -d /tmp/turnpike-vm.XXXXXX)
trap 'rm -rf "$run"' EXIT
printf '%s\n' "${rw_dirs[@]}" >"$run/rw-dirs"
echo "$moddir" >"$run/moddir"
{
  printf 'cd %q 2>/dev/null || cd /\n' "$PWD"
  for v in PATH HOME JAVA_HOME LANG MAVEN_OPTS; do
    [[ -n ${!v:-} ]] && printf 'export %s=%q\n' "$v" "${!v}"
  done
  printf 'exec'
  printf ' %q' "$@"
  printf '\n'
} >"$run/command.sh"

cat >"$run/stage2.sh" <<EOF
#!/bin/sh
# PID 1 inside the VM. Kernel messages go to ttyS0 (the host's console.log), the command's output
# to ttyS1 (the host's stdout).
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
R=/run/turnpike-vm
done_() { echo "\$1" >\$R/rc.tmp; mv \$R/rc.tmp \$R/rc; sync; echo o >/proc/sysrq-trigger; while :; do :; done; }
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm /run/netns
mount -t devpts devpts /dev/pts
mount -t tmpfs shm /dev/shm
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
echo /sbin/modprobe >/proc/sys/kernel/modprobe
hostname turnpike-vm
ip link set lo up
stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec >/dev/ttyS1 2>&1
date +%s.%N >\$R/booted
# One modprobe for all: each process start and index load costs ~1 s under TCG.
modprobe -a $(echo $modules) || { echo "vm-run: modprobe -a $(echo $modules) failed"; done_ 125; }
[ -e /proc/net/ip_vs ] || { echo "vm-run: /proc/net/ip_vs missing after modprobe ip_vs"; done_ 125; }
date +%s.%N >\$R/modules-loaded
sh \$R/command.sh </dev/null
rc=\$?
date +%s.%N >\$R/command-done
done_ \$rc
EOF

# --- boot -----------------------------------------------------------------------------------------
qemu_args=(
  -accel "$accel" -machine q35 -cpu "$([[ $accel == kvm ]] && echo host || echo max)" -smp "$cpus" -m "$mem"
  -kernel "$vmlinuz" -initrd "$initrd"
  -append "console=ttyS0 quiet loglevel=4 panic=-1 rdinit=/init ${TURNPIKE_VM_APPEND:-}"
  -nic none -nographic -no-reboot -monitor none
  -serial "file:$run/console.log" -serial stdio
  -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
  -virtfs "local,path=$run,mount_tag=tprun,security_model=none"
)
for i in "${!rw_dirs[@]}"; do
  qemu_args+=(-virtfs "local,path=${rw_dirs[$i]},mount_tag=rw$i,security_model=none")
done

start=$(date +%s.%N)
set +e
timeout -k 10 "$timeout_s" qemu-system-x86_64 "${qemu_args[@]}" </dev/null 2>"$run/qemu.err"
qemu_rc=$?
set -e
end=$(date +%s.%N)

# Boot is measured against the VM's clock (set from the host's RTC at boot, so +-1 s), the rest
# within the VM.
if [[ -f $run/command-done ]] && ((verbose)); then
  awk -v s="$start" -v b="$(cat "$run/booted")" -v m="$(cat "$run/modules-loaded")" \
    -v c="$(cat "$run/command-done")" -v e="$end" \
    'BEGIN { printf "vm-run: boot %.1f s, modules %.1f s, command %.1f s, total %.1f s\n",
             b - s, m - b, c - m, e - s }' >&2
fi
# The console log without the firmware's terminal escapes.
console_lines() { sed 's/\r$//; s/\x1b[[][0-9;?]*[a-zA-Z]//g; s/\x1bc//g; s/^/vm-run: console: /' "$@"; }
if [[ -f $run/rc ]]; then
  ((verbose)) && console_lines "$run/console.log" >&2
  exit "$(cat "$run/rc")"
fi
if ((qemu_rc == 124)); then
  echo "vm-run: timed out after ${timeout_s}s$([[ -f $run/booted ]] || echo ' before the VM finished booting')" >&2
else
  echo "vm-run: the VM stopped without an exit code (qemu exit $qemu_rc$([[ -f $run/booted ]] || echo ', it did not boot'))" >&2
fi
[[ -s $run/qemu.err ]] && sed 's/^/vm-run: qemu: /' "$run/qemu.err" >&2
echo "vm-run: last console lines:" >&2
tail -n 30 "$run/console.log" 2>/dev/null | console_lines >&2
((qemu_rc == 124)) && exit 124
exit 125
