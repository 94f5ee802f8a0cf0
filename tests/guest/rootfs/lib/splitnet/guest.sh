# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# Helpers for in-guest test scripts (busybox ash).  /init sources this file
# before the test, which runs under `sh -e` in /run/splitnet.
#
# Conventions: print what you check (the serial log is the record), call
# `fail MSG` to fail, and finish normally to pass.  Files the host handed over
# with guest_file (tests/guest/lib.sh) are in /run/splitnet/files/.

# Say something in the log, tagged so it stands out from kernel messages.
log() { echo "guest: $*"; }

fail() {
    echo "guest: FAIL: $*"
    exit 1
}

# Tell the host that the guest reached a point (tests/guest/lib.sh's
# guest_wait_for waits for "SPLITNET-READY: TAG").  Host-side parts of traffic
# tests use this to know when to connect to a hostfwd port.
ready() { echo "SPLITNET-READY: ${1:-ready}"; }

# Read a sysfs attribute, without a trailing newline.
sysattr() { cat "$1" 2>/dev/null || true; }

# List PCI functions: "BDF vendor device class" per line (0x-prefixed ids).
pci_list() {
    local d
    for d in /sys/bus/pci/devices/*; do
        [ -e "$d/vendor" ] || continue
        echo "${d##*/} $(sysattr "$d/vendor") $(sysattr "$d/device") $(sysattr "$d/class")"
    done
}

# BDFs of the functions with vendor $1 and device $2 (e.g. 0x1af4 0x10f5).
pci_find() {
    pci_list | awk -v v="$1" -v d="$2" '$2 == v && $3 == d { print $1 }'
}

# Print what the guest sees of one PCI function: its sysfs attributes and an
# lspci line (lspci and pci.ids are in the initramfs).
pci_show() {
    local bdf=$1 d=/sys/bus/pci/devices/$1 a
    for a in vendor device subsystem_vendor subsystem_device class revision irq; do
        if [ -e "$d/$a" ]; then echo "guest: $d/$a = $(sysattr "$d/$a")"; fi
    done
    if [ -e "$d/driver" ]; then
        echo "guest: $d/driver -> $(basename "$(readlink "$d/driver")")"
    fi
    for a in "$d"/net/* "$d"/virtio*/net/*; do
        if [ -e "$a" ]; then echo "guest: network interface ${a##*/} ($a)"; fi
    done
    if command -v lspci >/dev/null 2>&1; then
        lspci -nn -s "$bdf" | sed 's/^/guest: lspci: /'
        lspci -vv -s "$bdf" 2>/dev/null | tr '\t' ' ' | sed -n 's/^ *\(Region\|Capabilities\|Kernel driver\).*/guest: lspci:   &/p'
    fi
    return 0
}

# Check that exactly one function has vendor/device $1/$2 and class $3, and
# show it.  Sets PCI_BDF to its address.
pci_expect() {
    local vendor=$1 device=$2 class=$3 bdfs n bdf got
    log "PCI functions seen by the guest (BDF vendor device class):"
    pci_list | sed 's/^/guest:   /'
    bdfs=$(pci_find "$vendor" "$device")
    n=$(echo "$bdfs" | grep -c . || true)
    [ "$n" = 1 ] || fail "expected one PCI function $vendor:$device, found $n"
    bdf=$bdfs
    got=$(sysattr "/sys/bus/pci/devices/$bdf/class")
    [ "$got" = "$class" ] || fail "$bdf: class $got, expected $class"
    log "found $vendor:$device class $class at $bdf"
    # shellcheck disable=SC2034 # for the test script
    PCI_BDF=$bdf
    pci_show "$bdf"
}

# The network interface(s) of PCI function $1, waiting up to $2 s (default 10)
# for the driver to register one (directly, or below a virtio device).
netdev_of() {
    local t=${2:-10} i=0 d=/sys/bus/pci/devices/$1 n a
    while :; do
        n=
        for a in "$d"/net/* "$d"/virtio*/net/*; do
            if [ -e "$a" ]; then n="$n${n:+ }${a##*/}"; fi
        done
        [ -n "$n" ] && break
        i=$((i + 1))
        [ "$i" -le $((t * 10)) ] || return 1
        usleep 100000
    done
    echo "$n"
}

# The first network interface other than lo, waiting up to $1 s (default
# 10) for a driver to register one: for guests with a single NIC.
first_netdev() {
    local t=${1:-10} i=0 d
    while :; do
        for d in /sys/class/net/*; do
            if [ "${d##*/}" != lo ] && [ -e "$d" ]; then
                echo "${d##*/}"
                return 0
            fi
        done
        i=$((i + 1))
        [ "$i" -le $((t * 10)) ] || return 1
        usleep 100000
    done
}

# Load a module: a file handed over by the host (/run/splitnet/files/NAME.ko)
# or one from the guest kernel (modprobe NAME).
load_module() {
    if [ -f "/run/splitnet/files/$1.ko" ]; then
        insmod "/run/splitnet/files/$1.ko" || fail "insmod $1.ko failed"
    else
        modprobe "$1" || fail "modprobe $1 failed"
    fi
    log "loaded $1"
}
