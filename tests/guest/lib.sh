# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Host side of splitnet's guest tests: boot the test guest (built by
# scripts/fetch-guest.sh) under QEMU/TCG, hand it a test script, collect its
# serial log and wait for its result.  Source this file from bash.
#
# A test in one call:
#
#     guest_run NAME tests/guest/in-guest/SCRIPT.sh [QEMU ARGS...]
#
# returns 0 when the in-guest script passed.  The script reaches the guest
# through fw_cfg (opt/splitnet/test), so changing it needs no initramfs
# rebuild; the guest's /init runs it with /lib/splitnet/guest.sh sourced
# (see tests/guest/rootfs/).  The serial log is build/guest/logs/NAME.log.
#
# Before guest_run/guest_start, a test may add
#     guest_env KEY=VALUE...      variables for the in-guest script
#     guest_file PATH [NAME]      a host file, in the guest at
#                                 /run/splitnet/files/NAME (e.g. a driver .ko)
#     guest_append ARGS...        kernel command line arguments
# which apply to the next guest started, and are then cleared.
#
# Tests with a host-side part (traffic through hostfwd on 127.0.0.1, sha256 of
# what arrived, two guests on a 127.0.0.1 socket) use the steps instead:
#
#     guest_start NAME SCRIPT [QEMU ARGS...]    boot in the background
#     guest_wait_for NAME 'SPLITNET-READY: up'  the guest called `ready up`
#     ... host side: connect to the forwarded port, compare hashes ...
#     guest_finish NAME                         result; powers off / kills
#
# e.g. port=$(guest_free_port) and
#     -netdev user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:5201
# (restrict=on still lets the host connect in through hostfwd).
#
# Several guests may run at once under different NAMEs.  guest_cleanup (run
# at exit by tests/guest/run.sh) kills whatever is left.
#
# Network rules: traffic never leaves the machine.  Use only
# `-netdev user,...,restrict=on` (hostfwd=tcp:127.0.0.1:PORT-:PORT), hubport,
# or socket/stream/dgram netdevs on 127.0.0.1.  The harness always passes
# `-nic none` so QEMU adds no default (unrestricted) NIC.
#
# Environment:
#   QEMU                    QEMU binary (default build/qemu-build/qemu-system-x86_64)
#   SPLITNET_GUEST_TIMEOUT  seconds a guest may take to give its result (120)
#   SPLITNET_GUEST_MEM      guest memory (512M)
#   SPLITNET_GUEST_SMP      guest CPUs (1)
#   SPLITNET_GUEST_MACHINE  machine type (pc)
#   SPLITNET_GUEST_NOFETCH  1: don't run scripts/fetch-guest.sh, use build/guest as is

# shellcheck source=scripts/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/lib.sh"

GUEST_DIR=$SPLITNET_BUILD/guest
GUEST_LOGDIR=$GUEST_DIR/logs
GUEST_IN_GUEST=$SPLITNET_TOP/tests/guest/in-guest
SPLITNET_GUEST_TIMEOUT=${SPLITNET_GUEST_TIMEOUT:-120}

declare -A GUEST_PIDS=() GUEST_LOGS=() GUEST_T0=()
GUEST_ENV=()
GUEST_FILES=()
GUEST_APPEND=()
GUEST_CMD=()

# The QEMU binary the tests use.
guest_qemu() {
    local q=${QEMU:-$SPLITNET_BUILD/qemu-build/qemu-system-x86_64}
    [ -x "$q" ] || die "no QEMU at $q (build it, or set QEMU=/path/to/qemu-system-x86_64)"
    echo "$q"
}

# True when the QEMU in use is the project's own build.
guest_qemu_is_ours() {
    [ "$(readlink -f "$(guest_qemu)")" = \
      "$(readlink -f "$SPLITNET_BUILD/qemu-build/qemu-system-x86_64")" ]
}

# True when QEMU knows device $1.
qemu_has_device() {
    "$(guest_qemu)" -machine none -device help 2>/dev/null |
        grep -q "^name \"$1\""
}

# Kernel, initramfs and firmware: (re)build them when needed, then load
# KVER, KERNEL, INITRD and FIRMWARE.
guest_prepare() {
    [ -n "${GUEST_PREPARED:-}" ] && return 0
    if [ "${SPLITNET_GUEST_NOFETCH:-0}" != 1 ]; then
        bash "$SPLITNET_TOP/scripts/fetch-guest.sh" ||
            die "scripts/fetch-guest.sh failed"
    fi
    [ -f "$GUEST_DIR/guest.env" ] || die "no guest in $GUEST_DIR: run scripts/fetch-guest.sh"
    # shellcheck source=/dev/null
    . "$GUEST_DIR/guest.env"
    mkdir -p "$GUEST_LOGDIR"
    GUEST_PREPARED=1
}

guest_env() { GUEST_ENV+=("$@"); }
guest_append() { GUEST_APPEND+=("$@"); }
guest_file() {
    local path=$1 name=${2:-$(basename "$1")}
    [ -f "$path" ] || die "guest_file: no file $path"
    [ "${#name}" -le 40 ] || die "guest_file: name $name too long for fw_cfg"
    GUEST_FILES+=("-fw_cfg" "name=opt/splitnet/files/$name,file=$path")
}

# guest_command NAME SCRIPT [QEMU ARGS...]: the QEMU command line of a test
# guest, in the array GUEST_CMD (guest_start runs it; scripts/demo.sh --shell
# runs it in the foreground).  Writes the env file, consumes guest_env,
# guest_file and guest_append.
guest_command() {
    local name=$1 script=$2 envf qemu kv
    shift 2
    guest_prepare
    qemu=$(guest_qemu)
    case $script in
    */*) ;;
    *) script=$GUEST_IN_GUEST/$script ;;
    esac
    [ -f "$script" ] || die "no in-guest script $script"
    envf=$GUEST_LOGDIR/$name.env
    : > "$envf"
    for kv in ${GUEST_ENV[@]+"${GUEST_ENV[@]}"}; do
        printf '%s=%q\n' "${kv%%=*}" "${kv#*=}" >> "$envf"
    done
    GUEST_CMD=("$qemu" -accel tcg -machine "${SPLITNET_GUEST_MACHINE:-pc}"
        -m "${SPLITNET_GUEST_MEM:-512M}" -smp "${SPLITNET_GUEST_SMP:-1}"
        -nographic -no-reboot -nic none -L "$FIRMWARE"
        -kernel "$KERNEL" -initrd "$INITRD"
        -append "console=ttyS0 quiet panic=-1 splitnet.test=$name ${GUEST_APPEND[*]+${GUEST_APPEND[*]}}"
        -fw_cfg "name=opt/splitnet/test,file=$script"
        -fw_cfg "name=opt/splitnet/env,file=$envf"
        ${GUEST_FILES[@]+"${GUEST_FILES[@]}"} "$@")
    GUEST_ENV=() GUEST_FILES=() GUEST_APPEND=()
}

# guest_start NAME SCRIPT [QEMU ARGS...]: boot a guest in the background that
# runs SCRIPT (a path on the host; a bare name means tests/guest/in-guest/).
guest_start() {
    local name=$1 log
    [ -z "${GUEST_PIDS[$name]:-}" ] || die "guest $name is already running"
    guest_command "$@"
    log=$GUEST_LOGDIR/$name.log
    {
        echo "# splitnet guest test $name, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
        echo "# qemu: $("${GUEST_CMD[0]}" --version | head -n1)"
        echo "# kernel: $KVER"
        printf '# cmd:'; printf ' %q' "${GUEST_CMD[@]}"; echo
        sed 's/^/# env: /' "$GUEST_LOGDIR/$name.env"
    } > "$log"
    "${GUEST_CMD[@]}" </dev/null >>"$log" 2>&1 &
    GUEST_PIDS[$name]=$!
    GUEST_LOGS[$name]=$log
    GUEST_T0[$name]=$(date +%s.%N)
    say "guest $name: booting (log: ${log#"$SPLITNET_TOP"/})"
}

guest_alive() { kill -0 "${GUEST_PIDS[$1]}" 2>/dev/null; }

# guest_wait_for NAME REGEX [TIMEOUT]: wait until the serial log has a line
# matching REGEX (grep -E).  Fails when the guest exits first or on timeout.
guest_wait_for() {
    local name=$1 re=$2 t=${3:-$SPLITNET_GUEST_TIMEOUT} end
    local log=${GUEST_LOGS[$name]:?no guest $name}
    end=$(( $(date +%s) + t ))
    while ! grep -aqE "$re" "$log"; do
        if ! guest_alive "$name"; then
            grep -aqE "$re" "$log" && return 0
            say "guest $name: exited before '$re'"
            return 1
        fi
        if [ "$(date +%s)" -ge "$end" ]; then
            say "guest $name: no '$re' within ${t}s"
            return 1
        fi
        sleep 0.2
    done
}

# Kill guest NAME if it still runs, and forget it.
guest_stop() {
    local name=$1 pid=${GUEST_PIDS[$1]:-} i
    [ -n "$pid" ] || return 0
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        [ "$i" = 1 ] && kill -TERM "$pid" 2>/dev/null
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "GUEST_PIDS[$name]"
}

guest_cleanup() {
    local n
    for n in "${!GUEST_PIDS[@]}"; do guest_stop "$n"; done
}

# guest_finish NAME [TIMEOUT]: wait for the in-guest result, let the guest
# power off (or kill it), and return 0 for PASS.  On failure the end of the
# log goes to stderr.
guest_finish() {
    local name=$1 t=${2:-$SPLITNET_GUEST_TIMEOUT} log res=1 i el
    log=${GUEST_LOGS[$name]:?no guest $name}
    if guest_wait_for "$name" 'SPLITNET-RESULT: (PASS|FAIL)' "$t"; then
        grep -aq 'SPLITNET-RESULT: PASS' "$log" && res=0
        # the guest powers off by itself right after the result
        for i in $(seq 100); do
            guest_alive "$name" || break
            sleep 0.1
        done
        guest_alive "$name" && say "guest $name: did not power off, killing it"
    fi
    guest_stop "$name"
    el=$(echo "$(date +%s.%N) ${GUEST_T0[$name]}" | awk '{ printf "%.1f", $1 - $2 }')
    # shellcheck disable=SC2034 # for callers: how long the guest ran
    GUEST_ELAPSED=$el
    if [ "$res" = 0 ]; then
        say "guest $name: PASS (${el}s)"
    else
        say "guest $name: FAIL (${el}s); end of ${log#"$SPLITNET_TOP"/}:"
        tail -n 25 "$log" | tr -d '\r' | sed 's/^/    /' >&2
    fi
    return "$res"
}

# guest_run NAME SCRIPT [QEMU ARGS...]: start, wait for the result, finish.
guest_run() {
    local name=$1
    guest_start "$@"
    guest_finish "$name"
}

# A free TCP port on 127.0.0.1 for a hostfwd rule.
guest_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Lines the in-guest script printed with log() ("guest: ..."), without \r.
guest_output() {
    grep -a '^guest: ' "${GUEST_LOGS[$1]:-$GUEST_LOGDIR/$1.log}" | tr -d '\r'
}
