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
#     guest_netns NS              run QEMU inside network namespace NS
#                                 (one the test made with netns_new)
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
# socket/stream/dgram netdevs on 127.0.0.1, or taps inside a network
# namespace the test made (netns_new, netns_tap, guest_netns).  The harness always passes
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

declare -A GUEST_PIDS=() GUEST_LOGS=() GUEST_T0=() GUEST_QMP=() GUEST_GEN=()
GUEST_ENV=()
GUEST_QMP_NEXT=0
GUEST_SOCKDIR=
GUEST_FILES=()
GUEST_APPEND=()
GUEST_NETNS=
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

# True when QEMU knows device $1.  The list is read whole first: `grep -q`
# in a pipe stops reading at the first match, and QEMU writing the rest
# could then die of SIGPIPE, which pipefail would take for "no device".
qemu_has_device() {
    local list
    list=$("$(guest_qemu)" -machine none -device help 2>/dev/null) || return 1
    grep -q "^name \"$1\"" <<<"$list"
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
# guest_qmp_on: the next guest started gets a QMP socket (guest_qmp, guest_stat)
# and can be live-migrated (guest_migrate).
guest_qmp_on() { GUEST_QMP_NEXT=1; }
guest_append() { GUEST_APPEND+=("$@"); }
guest_netns() { GUEST_NETNS=$1; }
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
    # no_timer_check: on a loaded host TCG's timer can miss the kernel's
    # IO-APIC timer check at boot, which then panics ("IO-APIC + timer
    # doesn't work", seen in a bench run beside four builds).
    GUEST_CMD=("$qemu" -accel tcg -machine "${SPLITNET_GUEST_MACHINE:-pc}"
        -m "${SPLITNET_GUEST_MEM:-512M}" -smp "${SPLITNET_GUEST_SMP:-1}"
        -nographic -no-reboot -nic none -L "$FIRMWARE"
        -kernel "$KERNEL" -initrd "$INITRD"
        -append "console=ttyS0 quiet panic=-1 no_timer_check splitnet.test=$name ${GUEST_APPEND[*]+${GUEST_APPEND[*]}}"
        -fw_cfg "name=opt/splitnet/test,file=$script"
        -fw_cfg "name=opt/splitnet/env,file=$envf"
        ${GUEST_FILES[@]+"${GUEST_FILES[@]}"} "$@")
    # ip netns exec execs QEMU: the PID stays QEMU's
    if [ -n "$GUEST_NETNS" ]; then
        GUEST_CMD=(ip netns exec "$GUEST_NETNS" "${GUEST_CMD[@]}")
    fi
    GUEST_ENV=() GUEST_FILES=() GUEST_APPEND=() GUEST_NETNS=
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
        echo "# qemu: $("$(guest_qemu)" --version | head -n1)"
        echo "# kernel: $KVER"
        printf '# cmd:'; printf ' %q' "${GUEST_CMD[@]}"; echo
        sed 's/^/# env: /' "$GUEST_LOGDIR/$name.env"
    } > "$log"
    # the command line again for a migration destination (guest_migrate)
    printf '%s\0' "${GUEST_CMD[@]}" > "$GUEST_LOGDIR/$name.cmd"
    unset "GUEST_QMP[$name]"
    if [ "$GUEST_QMP_NEXT" = 1 ]; then
        GUEST_QMP[$name]=$(guest_qmp_path "$name" 0)
        GUEST_CMD+=(-qmp "unix:${GUEST_QMP[$name]},server=on,wait=off")
        GUEST_QMP_NEXT=0
    fi
    GUEST_GEN[$name]=0
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
    if [ -n "$GUEST_SOCKDIR" ]; then rm -rf "$GUEST_SOCKDIR"; fi
}

# --- QMP and live migration ---------------------------------------------------

# guest_qmp_path NAME GEN: the QMP socket of QEMU instance GEN of guest NAME
# (0 started it, each migration adds one), in a short directory of its own:
# a unix socket path must be under 108 bytes.
guest_qmp_path() {
    if [ -z "$GUEST_SOCKDIR" ]; then
        GUEST_SOCKDIR=$(mktemp -d /tmp/splitnet-qmp.XXXXXX) ||
            die "cannot make a directory for QMP sockets"
    fi
    echo "$GUEST_SOCKDIR/$1.$2"
}

# guest_qmp NAME COMMAND [ARGUMENTS-JSON]: one QMP command to guest NAME
# (started after guest_qmp_on); prints its return value as JSON.
guest_qmp() {
    local name=$1
    shift
    [ -n "${GUEST_QMP[$name]:-}" ] || die "guest $name has no QMP socket (guest_qmp_on)"
    python3 "$SPLITNET_TOP/tests/guest/qmp.py" "${GUEST_QMP[$name]}" "$@"
}

# guest_stat NAME DEV QUEUE COUNTER: one counter of splitnet device DEV
# (-device splitnet,id=DEV) of guest NAME, e.g. guest_stat t nic0 rx0 bytes.
guest_stat() {
    guest_qmp "$1" stat "$2" "$3" "$4"
}

# guest_wait_stat NAME DEV QUEUE COUNTER VALUE [TIMEOUT]: until the counter
# reaches VALUE.  Fails when the guest exits first, gives its result
# (it is past the traffic the caller waits for), or on timeout (300 s).
guest_wait_stat() {
    local name=$1 dev=$2 q=$3 c=$4 want=$5 t=${6:-300} end v
    end=$(( $(date +%s) + t ))
    while :; do
        v=$(guest_stat "$name" "$dev" "$q" "$c") || return 1
        [ "$v" -lt "$want" ] || return 0
        if grep -aqE 'SPLITNET-RESULT: ' "${GUEST_LOGS[$name]}"; then
            say "guest $name: finished with $dev $q $c at $v, before $want"
            return 1
        fi
        if [ "$(date +%s)" -ge "$end" ]; then
            say "guest $name: $dev $q $c at $v, not $want within ${t}s"
            return 1
        fi
        sleep 0.2
    done
}

# guest_migrate NAME [DEV]: live-migrate running guest NAME (started after
# guest_qmp_on) to a new QEMU on 127.0.0.1 with the same command line plus
# `-incoming defer -S`, writing to the same serial log; the new QEMU becomes
# guest NAME and the old one quits.  With DEV, the splitnet device's QOM
# stats must be equal on both sides before the guest runs on (migrate.py).
# Sets MIGRATE_OUT to migrate.py's line ("migrated SECONDS downtime_ms=...").
guest_migrate() {
    local name=$1 dev=${2:-} gen old new pid cmd=() log
    [ -n "${GUEST_QMP[$name]:-}" ] || die "guest $name has no QMP socket (guest_qmp_on)"
    log=${GUEST_LOGS[$name]}
    gen=$(( GUEST_GEN[$name] + 1 ))
    new=$(guest_qmp_path "$name" "$gen")
    mapfile -d '' cmd < "$GUEST_LOGDIR/$name.cmd"
    echo "# migration $gen of $name: $(date -u '+%H:%M:%S')" >> "$log"
    "${cmd[@]}" -qmp "unix:$new,server=on,wait=off" -incoming defer -S \
        </dev/null >>"$log" 2>&1 &
    pid=$!
    old=${GUEST_PIDS[$name]}
    if ! MIGRATE_OUT=$(python3 "$SPLITNET_TOP/tests/guest/migrate.py" \
            "${GUEST_QMP[$name]}" "$new" ${dev:+--device "$dev"}); then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        say "guest $name: migration $gen failed"
        return 1
    fi
    GUEST_PIDS[$name]=$pid
    GUEST_QMP[$name]=$new
    GUEST_GEN[$name]=$gen
    wait "$old" 2>/dev/null || true
    say "guest $name: migration $gen: $MIGRATE_OUT"
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

# guest_conclude NAME RC [RE]: end a test whose host side gave RC: wait
# for guest NAME's result, fail unless both passed, then repeat as
# diagnostics the guest's "guest: ..." lines that match the sed regex RE.
guest_conclude() {
    local name=$1 rc=$2 re=${3:-}
    guest_finish "$name" 300 || rc=1
    [ "$rc" = 0 ] || die "failed, see above and ${GUEST_LOGS[$name]#"$SPLITNET_TOP"/}"
    [ -n "$re" ] || return 0
    guest_output "$name" | sed -n "s/^guest: \\($re\\)/\\1/p" |
        while read -r line; do diag "$line"; done
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

# guest_free_ports N: N different free TCP ports on 127.0.0.1, one a line
# (two guest_free_port calls may return the same port).
guest_free_ports() {
    python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print("\n".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# guest_ctl_arg NAME: the value of -chardev for guest NAME's control port, a
# channel from the host to the guest that does not go through a NIC.  Give
# it with `-serial mon:stdio -serial chardev:ctl` (an explicit -serial drops
# the default console, which must stay the first port): the guest reads it
# as /dev/ttyS1 (ctl_open/ctl_wait in netlib.sh), the host writes with
# guest_signal.
guest_ctl_arg() {
    echo "socket,id=ctl,path=$GUEST_LOGDIR/$1.ctl,server=on,wait=off"
}

# guest_signal NAME WORD: send the line WORD to guest NAME's control port.
guest_signal() {
    python3 - "$GUEST_LOGDIR/$1.ctl" "$2" <<'PY'
import socket, sys
with socket.socket(socket.AF_UNIX) as s:
    s.settimeout(60)
    s.connect(sys.argv[1])
    s.sendall(sys.argv[2].encode() + b"\n")
PY
}

# Lines the in-guest script printed with log() ("guest: ..."), without \r;
# none is no error (grep's exit 1 would fail every pipe under pipefail).
guest_output() {
    { grep -a '^guest: ' "${GUEST_LOGS[$1]:-$GUEST_LOGDIR/$1.log}" || true; } |
        tr -d '\r'
}

# --- traffic tests ------------------------------------------------------------
#
# Helpers for tests that move data (tests/guest/cases/2*.sh).  In the guest,
# tests/guest/in-guest/netlib.sh (handed over by guest_net_helpers) brings up
# the NIC, runs udhcpc and moves data with busybox nc; on the host,
# tests/guest/xfer.py talks to the guest through hostfwd on 127.0.0.1.

# diag TEXT...: a diagnostic for the TAP output ("# TEXT" after the test's
# result line; tests/guest/run.sh sets TEST_DIAG), and progress on stderr.
diag() {
    say "$*"
    if [ -n "${TEST_DIAG:-}" ]; then echo "$*" >> "$TEST_DIAG"; fi
    return 0
}

# guest_splitnet_missing: true (and prints why) when this QEMU has no
# splitnet device and is not the project's build, so a test should skip;
# dies when the project's QEMU lacks it or the driver is not built.
guest_splitnet_missing() {
    if ! qemu_has_device splitnet; then
        guest_qemu_is_ours && die "the built QEMU has no splitnet device"
        echo "$(guest_qemu) has no splitnet device"
        return 0
    fi
    [ -f "$SPLITNET_BUILD/guest/driver/splitnet.ko" ] ||
        die "no guest driver build/guest/driver/splitnet.ko (make, or scripts/build-driver.sh)"
    return 1
}

# Hand the guest driver and the in-guest network helpers to the next guest.
guest_driver() {
    guest_file "$SPLITNET_BUILD/guest/driver/splitnet.ko" splitnet.ko
}
guest_net_helpers() {
    guest_file "$GUEST_IN_GUEST/netlib.sh" netlib.sh
}

# host_data FILE MIB: MIB MiB of random data in FILE; prints its sha256.
host_data() {
    head -c "$(($2 * 1048576))" /dev/urandom > "$1" || die "cannot write $1"
    sha256sum "$1" | cut -d' ' -f1
}

# host_send PORT FILE [TIMEOUT]: send FILE into the guest through hostfwd
# 127.0.0.1:PORT; prints "sent BYTES SECONDS".
host_send() {
    python3 "$SPLITNET_TOP/tests/guest/xfer.py" send "$1" "$2" --timeout "${3:-300}"
}

# host_recv PORT [TIMEOUT]: read from the guest through 127.0.0.1:PORT until
# it closes; prints "received BYTES SECONDS SHA256".
host_recv() {
    python3 "$SPLITNET_TOP/tests/guest/xfer.py" recv "$1" --timeout "${2:-300}"
}

# guest_value NAME PREFIX: the rest of the last "guest: PREFIX ..." line of
# guest NAME's log (e.g. guest_value t 'sha256 tx'), empty when none.
guest_value() {
    guest_output "$1" | awk -v p="guest: $2 " \
        'index($0, p) == 1 { v = substr($0, length(p) + 1) } END { print v }'
}

# mbit BYTES SECONDS: throughput for progress messages.
mbit() {
    awk -v n="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.01
        printf "%.1f MiB/s, %.0f Mbit/s", n / s / 1048576, n * 8 / s / 1e6 }'
}

# guest_xfer_setup NAME MIB: before guest_start of a test that moves MIB MiB
# each way through guest ports 5001 (host->guest) and 5002 (guest->host):
# XFER_NETDEV is the -netdev with those ports forwarded from free host ports
# XFER_P1 and XFER_P2; XFER_DATA is the host's random data (removed at
# exit), XFER_SHA256 its sha256; the guest gets the driver, netlib.sh,
# H2G_SHA256 and MIB (both_ways in netlib.sh).
guest_xfer_setup() {
    { read -r XFER_P1; read -r XFER_P2; } < <(guest_free_ports 2)
    # shellcheck disable=SC2034 # for the test's guest_start
    XFER_NETDEV="user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$XFER_P1-:5001,hostfwd=tcp:127.0.0.1:$XFER_P2-:5002"
    XFER_DATA=$GUEST_LOGDIR/$1.h2g
    trap 'rm -f "$XFER_DATA"' EXIT
    XFER_SHA256=$(host_data "$XFER_DATA" "$2")
    guest_driver
    guest_net_helpers
    guest_env "H2G_SHA256=$XFER_SHA256" "MIB=$2"
}

# guest_both_ways NAME SUFFIX WANT: the host half of both_ways SUFFIX
# (netlib.sh): XFER_DATA to the guest, then what it serves, whose sha256
# must be WANT.
guest_both_ways() {
    guest_h2g "$1" "h2g$2" "$XFER_P1" "$XFER_DATA" &&
        guest_g2h "$1" "g2h$2" "$XFER_P2" "$3"
}

# end_of PID: stop a host-side transfer the guest cut short.
end_of() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# guest_ready NAME TAG [TIMEOUT]: wait until guest NAME called `ready TAG`
# (exactly TAG: "h2g" does not match "h2g-cut").
guest_ready() {
    guest_wait_for "$1" "SPLITNET-READY: $2"$'\r''?$' "${3:-300}"
}

# guest_h2g NAME TAG PORT FILE: once guest NAME is ready for TAG, send FILE
# to it through hostfwd 127.0.0.1:PORT (the guest checks the sha256).
guest_h2g() {
    local name=$1 tag=$2 port=$3 f=$4 out n s
    guest_ready "$name" "$tag" || return 1
    out=$(host_send "$port" "$f" 600) || return 1
    read -r _ n s <<<"$out"
    say "$tag: host->guest $n bytes in $s s ($(mbit "$n" "$s"))"
}

# guest_g2h NAME TAG PORT WANT: once guest NAME is ready for TAG, read what
# it serves on 127.0.0.1:PORT and compare its sha256 with WANT.  Sets
# G2H_SHA256 and G2H_BYTES.
guest_g2h() {
    local name=$1 tag=$2 port=$3 want=$4 out s
    guest_ready "$name" "$tag" || return 1
    out=$(host_recv "$port" 600) || return 1
    read -r _ G2H_BYTES s G2H_SHA256 <<<"$out"
    say "$tag: guest->host $G2H_BYTES bytes in $s s ($(mbit "$G2H_BYTES" "$s")), sha256 $G2H_SHA256"
    if [ "$G2H_SHA256" != "$want" ]; then
        say "$tag: the host received sha256 $G2H_SHA256, the guest sent ${want:-?}"
        return 1
    fi
}

# guest_http_g2h NAME TAG MIB CMD...: once guest NAME is ready for TAG, fetch
# the /tx.bin of MIB MiB it serves with http_serve (netlib.sh) by running
# CMD... (xfer.py recv PORT, and where to connect); its size and sha256
# must be what the guest made.
guest_http_g2h() {
    local name=$1 tag=$2 want=$(($3 * 1048576)) gsum out n s got
    shift 3
    guest_ready "$name" "$tag" || return 1
    gsum=$(guest_made_sha256 "$name" /tmp/www/tx.bin)
    out=$("$@" --http /tx.bin --timeout 300) || return 1
    read -r _ n s got <<<"$out"
    diag "$tag: guest->host $n bytes in $s s ($(mbit "$n" "$s")), sha256 $got"
    if [ "$got" != "$gsum" ] || [ "$n" != "$want" ]; then
        diag "$tag: the guest made sha256 ${gsum:-?} of $want bytes"
        return 1
    fi
}

# The sha256 of the data the guest made with make_data FILE (netlib.sh).
guest_made_sha256() {
    guest_value "$1" "made $2:" | sed -n 's/.*sha256 //p'
}

# guest_slirp_traffic NAME MIB [QEMU ARGS...]: host half of
# in-guest/slirp-traffic.sh on splitnet behind slirp (restrict=on, hostfwd on
# 127.0.0.1): MIB MiB host->guest and guest->host, both sha256-checked, and
# the device's head-copy figures over the guest->host transfer as diag lines;
# fails when head bytes are not under 10 % of the bytes sent.  guest_append
# and guest_env before it apply.  Extra QEMU ARGS go before the NIC.
guest_slirp_traffic() {
    local name=$1 mib=$2 p1 p2 data want gsum st ratio kv rc=0
    shift 2
    { read -r p1; read -r p2; } < <(guest_free_ports 2)
    data=$GUEST_LOGDIR/$name.h2g
    want=$(host_data "$data" "$mib")
    guest_driver
    guest_net_helpers
    guest_env "H2G_SHA256=$want" "MIB=$mib"
    guest_start "$name" slirp-traffic.sh "$@" \
        -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$p1-:5001,hostfwd=tcp:127.0.0.1:$p2-:5002" \
        -device splitnet,netdev=n0,romfile=
    say "host->guest: $mib MiB (sha256 $want) to 127.0.0.1:$p1"
    guest_h2g "$name" h2g "$p1" "$data" || rc=1
    rm -f "$data"
    if [ "$rc" = 0 ]; then
        guest_ready "$name" g2h || rc=1
        gsum=$(guest_made_sha256 "$name" /tmp/tx.bin)
        guest_g2h "$name" g2h "$p2" "$gsum" || rc=1
    fi
    guest_finish "$name" 300 || rc=1
    [ "$rc" = 0 ] || return 1
    diag "host->guest $mib MiB: sha256 $want (checked in the guest)"
    diag "guest->host $mib MiB: sha256 $G2H_SHA256 (guest made $gsum)"
    [ "$G2H_BYTES" = "$((mib * 1048576))" ] ||
        die "guest->host: $G2H_BYTES bytes, expected $((mib * 1048576))"
    st=$(guest_value "$name" 'txstat g2h')
    [ -n "$st" ] || die "the guest reported no TX counters"
    diag "ethtool -S deltas over the guest->host transfer: $st"
    ratio=$(sed -n 's/.*ratio=\([0-9.]*\)%.*/\1/p' <<<"$st")
    for kv in tx_frames tx_bytes tx_head_bytes tx_payload_ref_bytes tx_payload_copy_bytes tx_errors tx_stalls; do
        diag "  ethtool -S $kv (since load): $(guest_value "$name" "ethtool -S: $kv:")"
    done
    awk -v r="$ratio" 'BEGIN { exit !(r != "" && r < 10) }' ||
        die "head bytes are ${ratio:-?} % of the bytes sent, not under 10 %"
    diag "head copy: $ratio % of the bytes sent (limit 10 %)"
}

# guest_pair_start NAME ROLE PORT SCRIPT DEV: start guest NAME-ROLE (a or
# b) of a pair running SCRIPT on a DEV NIC: a listens on the stream netdev
# at 127.0.0.1:PORT, b connects, or PAIR_NETDEV_A/B, PAIR_NETNS and
# PAIR_DEV_A/B as guest_pair says.  guest_env and guest_file before it.
guest_pair_start() {
    local name=$1 role=$2 port=$3 script=$4 dev=$5 netdev mac opts
    if [ "$role" = a ]; then
        netdev=${PAIR_NETDEV_A:-stream,id=n0,server=on,addr.type=inet,addr.host=127.0.0.1,addr.port=$port}
        mac=52:54:00:77:00:01 opts=${PAIR_DEV_A:-}
    else
        netdev=${PAIR_NETDEV_B:-stream,id=n0,server=off,reconnect-ms=200,addr.type=inet,addr.host=127.0.0.1,addr.port=$port}
        mac=52:54:00:77:00:02 opts=${PAIR_DEV_B:-}
    fi
    [ -z "${PAIR_NETNS:-}" ] || guest_netns "$PAIR_NETNS"
    guest_start "$name-$role" "$script" -netdev "$netdev" \
        -device "$dev,netdev=n0,romfile=,mac=$mac$opts"
}

# guest_pair NAME NIC_A NIC_B MIB MTUS [PING_SIZE]: two guests, NAME-a with
# NIC_A and NAME-b with NIC_B (splitnet or virtio), wired together by a
# stream netdev on 127.0.0.1 and running in-guest/pair.sh: for each MTU in
# MTUS (e.g. "1500 4000 1500"), MIB MiB each way and a ping of PING_SIZE
# bytes.  Compares what each received with what the other made (sha256).
# Optional: PAIR_NETDEV_A and PAIR_NETDEV_B replace the stream netdevs (id
# n0; e.g. taps in a namespace the test made, then PAIR_NETNS names it), and
# PAIR_DEV_A and PAIR_DEV_B are appended to the -device options.
guest_pair() {
    local name=$1 nic_a=$2 nic_b=$3 mib=$4 mtus=$5 ping=${6:-56}
    local port role nic dev a=$1-a b=$1-b rc=0 k mtu made got
    port=$(guest_free_port)
    for role in a b; do
        nic=$nic_a
        [ "$role" = b ] && nic=$nic_b
        case $nic in
        splitnet) dev=splitnet; guest_driver ;;
        virtio) dev=virtio-net-pci ;;
        *) die "guest_pair: unknown NIC $nic" ;;
        esac
        guest_net_helpers
        guest_env "ROLE=$role" "NIC=$nic" "MIB=$mib" "MTUS=$mtus" "PING_SIZE=$ping"
        guest_pair_start "$name" "$role" "$port" pair.sh "$dev"
    done
    guest_finish "$b" 600 || rc=1
    guest_finish "$a" 120 || rc=1
    [ "$rc" = 0 ] || return 1
    k=0
    for mtu in $mtus; do
        made=$(guest_made_sha256 "$b" /tmp/tx.bin)
        got=$(guest_value "$a" "sha256 rx-$mtu-$k")
        [ -n "$made" ] && [ "$got" = "$made" ] ||
            { say "MTU $mtu: $nic_b -> $nic_a: a received sha256 $got, b sent $made"; return 1; }
        diag "MTU $mtu: $nic_b -> $nic_a $mib MiB: sha256 $got (match)"
        made=$(guest_made_sha256 "$a" /tmp/tx.bin)
        got=$(guest_value "$b" "sha256 rx-$mtu-$k")
        [ -n "$made" ] && [ "$got" = "$made" ] ||
            { say "MTU $mtu: $nic_a -> $nic_b: b received sha256 $got, a sent $made"; return 1; }
        diag "MTU $mtu: $nic_a -> $nic_b $mib MiB: sha256 $got (match)"
        if [ "$ping" != 56 ]; then
            diag "  $(guest_value "$b" "ping -s $ping at MTU $mtu:" | sed "s/^/ping -s $ping at MTU $mtu: /")"
        fi
        k=$((k + 1))
    done
}

# guest_uso_vlan_pair NAME MIB: two splitnet guests running
# in-guest/uso-vlan.sh (UDP_SEGMENT sends b -> a on the link and on VLAN
# 10, then TCP both ways on VLAN 10, MIB MiB each), wired by a 127.0.0.1
# stream netdev or, as guest_pair, by PAIR_NETNS, PAIR_NETDEV_A/B and
# PAIR_DEV_A/B.  Fails unless each received sha256 is what the other side
# made; the counters the test asserts on are in the logs (ethtool -S).
guest_uso_vlan_pair() {
    local name=$1 mib=$2 ugs=$SPLITNET_BUILD/project/udp-gso port role
    local rc=0 to what from made got
    [ -x "$ugs" ] || die "no $ugs (make builds it)"
    port=$(guest_free_port)
    for role in a b; do
        guest_driver
        guest_net_helpers
        guest_file "$ugs" udp-gso
        guest_env "ROLE=$role" "MIB=$mib"
        guest_pair_start "$name" "$role" "$port" uso-vlan.sh splitnet
    done
    guest_finish "$name-b" 600 || rc=1
    guest_finish "$name-a" 120 || rc=1
    [ "$rc" = 0 ] || return 1
    for to in a:udp_link a:udp_vlan a:tcp-vlan b:tcp-vlan; do
        what=${to#*:} to=${to%:*} from=a
        [ "$to" = a ] && from=b
        made=$(guest_made_sha256 "$name-$from" /tmp/tx.bin)
        got=$(guest_value "$name-$to" "sha256 $what")
        [ -n "$made" ] && [ "$got" = "$made" ] ||
            { say "$what: $to received sha256 $got, $from sent $made"; return 1; }
        diag "$what $from -> $to, $mib MiB: sha256 $got (match)"
    done
    diag "ethtool -k: $(guest_value "$name-b" "ethtool -k:")"
}

# guest_migrate_pair NAME MIB MIGRATIONS: two splitnet guests on a 127.0.0.1
# stream netdev running in-guest/migrate-pair.sh; NAME-b is live-migrated
# MIGRATIONS times during each transfer of MIB MiB, first while it sends
# (b2a), then while it receives (a2b), at even steps of the transfer as b's
# device counts it.  Each migration must end before the transfer does, the
# device's counters must be the same on both sides of it (migrate.py), and
# what each side received must hash to what the other sent.
guest_migrate_pair() {
    local name=$1 mib=$2 n=$3 a=$1-a b=$1-b port dir q base want i at tx rx
    port=$(guest_free_port)
    guest_driver
    guest_net_helpers
    guest_env ROLE=a "MIB=$mib"
    guest_start "$a" migrate-pair.sh \
        -netdev "stream,id=n0,server=on,addr.type=inet,addr.host=127.0.0.1,addr.port=$port" \
        -device splitnet,id=nic0,netdev=n0,romfile=,mac=52:54:00:77:00:01
    guest_driver
    guest_net_helpers
    guest_env ROLE=b "MIB=$mib"
    guest_qmp_on
    # the destination connects at once and waits in the listen queue of a's
    # QEMU until the source's connection closes (the source quits)
    guest_start "$b" migrate-pair.sh \
        -netdev "stream,id=n0,server=off,reconnect-ms=200,addr.type=inet,addr.host=127.0.0.1,addr.port=$port" \
        -device splitnet,id=nic0,netdev=n0,romfile=,mac=52:54:00:77:00:02
    for dir in b2a a2b; do
        q=tx0
        [ "$dir" = a2b ] && q=rx0
        guest_ready "$b" "$dir" || return 1
        base=$(guest_stat "$b" nic0 "$q" bytes) || return 1
        for i in $(seq "$n"); do
            want=$((base + mib * 1048576 * i / (n + 1)))
            guest_wait_stat "$b" nic0 "$q" bytes "$want" 600 || return 1
            guest_migrate "$b" nic0 || return 1
            at=$(python3 -c 'import json, sys
print(json.loads(sys.argv[1].split("stats=", 1)[1])[sys.argv[2]]["bytes"])' \
                "$MIGRATE_OUT" "$q")
            [ "$at" -lt $((base + mib * 1048576)) ] ||
                { say "$dir: migration $i ended after the transfer"; return 1; }
            diag "$dir: migration $i at $q $((at - base)) of $((mib * 1048576)) bytes: ${MIGRATE_OUT%% stats=*}"
        done
    done
    guest_finish "$b" 600 || return 1
    guest_finish "$a" 120 || return 1
    for dir in b2a a2b; do
        tx=$(guest_value "$name-${dir%2*}" "sha256 tx-$dir")
        rx=$(guest_value "$name-${dir#*2}" "sha256 rx-$dir")
        [ -n "$tx" ] && [ "$rx" = "$tx" ] ||
            { say "$dir: received sha256 $rx, sent $tx"; return 1; }
        diag "$dir: $mib MiB, sha256 $rx on both ends ($(guest_value "$name-b" "$dir:"))"
    done
    diag "b: $(guest_value "$b" counters)"
    diag "a: $(guest_value "$a" counters)"
}

# --- a peer that stalls (tests/guest/peer.py) ---------------------------------

# guest_peer_start NAME MODE [peer.py OPTIONS]: start peer.py MODE (sink or
# relay) in the background for test NAME; sets PEER_PORTS to the port(s) it
# listens on, for `-netdev stream,server=off,...,addr.port=PORT`.
guest_peer_start() {
    local name=$1 mode=$2 pf i
    shift 2
    guest_prepare
    pf=$GUEST_LOGDIR/$name.peer-ports
    PEER_OUT=$GUEST_LOGDIR/$name.peer.json
    rm -f "$pf" "$PEER_OUT"
    python3 "$SPLITNET_TOP/tests/guest/peer.py" "$mode" --port-file "$pf" \
        --out "$PEER_OUT" "$@" &
    PEER_PID=$!
    for i in $(seq 100); do
        [ -f "$pf" ] && break
        kill -0 "$PEER_PID" 2>/dev/null || die "peer.py $mode did not start"
        sleep 0.1
    done
    mapfile -t PEER_PORTS < "$pf"
    [ "${#PEER_PORTS[@]}" -gt 0 ] || die "peer.py $mode gave no port"
}

# guest_peer_finish NAME: wait for peer.py (it ends when its QEMUs have
# gone) and show what it counted.
guest_peer_finish() {
    wait "$PEER_PID" || die "peer.py failed (see above)"
    say "peer: $(tr -d '\n ' < "$PEER_OUT")"
}

# peer_value SIDE KEY: one figure of peer.py's result for the frames it read
# from its connection SIDE (0, or 1 in relay mode).
peer_value() {
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))["directions"][int(sys.argv[2])]
print(d[sys.argv[3]])' "$PEER_OUT" "$1" "$2"
}

# guest_peer_check SIDE SENT GUEST: what peer.py read from SIDE, against
# pktgen's count SENT and the device counters guest GUEST logged
# (counters_check): every pktgen number once, in order, from 1 to SENT;
# every pktgen frame intact; as many frames as the device sent.
guest_peer_check() {
    local side=$1 sent=$2 g=$3 k v dev
    for k in gaps repeats bad; do
        v=$(peer_value "$side" "$k")
        [ "$v" = 0 ] || die "peer side $side: $k = $v ($(peer_value "$side" bad_examples))"
    done
    [ "$(peer_value "$side" first)" = 1 ] && [ "$(peer_value "$side" last)" = "$sent" ] &&
        [ "$(peer_value "$side" pktgen)" = "$sent" ] ||
        die "peer side $side: pktgen numbers $(peer_value "$side" first)..$(peer_value "$side" last), $(peer_value "$side" pktgen) frames; pktgen sent $sent"
    dev=$(guest_value "$g" counters | sed -n 's/.*tx_frames=\([0-9]*\).*/\1/p')
    v=$(peer_value "$side" frames)
    [ "$v" = "$dev" ] || die "peer side $side read $v frames, the device of $g sent $dev"
    diag "peer read $v frames from $g ($sent from pktgen, numbers 1..$sent once each, in order, intact), $(peer_value "$side" pauses) pauses, $(peer_value "$side" paused_s) s without reading"
}

# --- network namespaces -------------------------------------------------------
#
# Tests on tap devices make their own network namespace: the taps, a bridge
# and every address live in it, and QEMU runs in it (guest_netns), so
# nothing touches the host's interfaces.  netns_cleanup removes them all.

NETNS_LIST=()

# netns_missing: true (and prints why) when namespaces with taps cannot be
# made here (not root, no /dev/net/tun, ip netns refused).
netns_missing() {
    local ns=splitnet-probe-$$
    [ "$(id -u)" = 0 ] || { echo "not root: no network namespaces"; return 0; }
    [ -c /dev/net/tun ] || { echo "no /dev/net/tun"; return 0; }
    command -v ip >/dev/null || { echo "no ip command"; return 0; }
    ip netns add "$ns" 2>/dev/null || { echo "ip netns add is refused"; return 0; }
    ip netns del "$ns"
    return 1
}

# netns_new NS: a new network namespace with loopback up.
netns_new() {
    ip netns add "$1" || die "ip netns add $1 failed"
    NETNS_LIST+=("$1")
    ip -n "$1" link set lo up
}

# netns_tap NS TAP [BRIDGE]: a tap device inside NS (QEMU opens it with
# ifname=TAP), up, and a port of BRIDGE when given.
netns_tap() {
    ip -n "$1" tuntap add dev "$2" mode tap vnet_hdr ||
        die "ip tuntap add $2 in $1 failed"
    [ -z "${3:-}" ] || ip -n "$1" link set "$2" master "$3"
    ip -n "$1" link set "$2" up
}

# netns_tap_pair NS: namespace NS with bridge snbr0 and taps sntap1 and
# sntap2 on it (netns_cleanup removes it: trap it first).
netns_tap_pair() {
    netns_new "$1"
    netns_bridge "$1" snbr0
    netns_tap "$1" sntap1 snbr0
    netns_tap "$1" sntap2 snbr0
}

# netns_bridge NS BR: a bridge inside NS, up.
netns_bridge() {
    ip -n "$1" link add "$2" type bridge || die "ip link add $2 in $1 failed"
    ip -n "$1" link set "$2" up
}

# netns_cleanup: kill the guests, then remove every namespace made (and
# the taps and bridges in it).
netns_cleanup() {
    local ns
    guest_cleanup
    for ns in ${NETNS_LIST[@]+"${NETNS_LIST[@]}"}; do
        ip netns del "$ns" 2>/dev/null || true
    done
    NETNS_LIST=()
}

# guest_tap_traffic NAME MIB ROUNDS: splitnet on a tap (vnet_hdr) in a
# namespace made here (10.77.0.1 there, the guest 10.77.0.2, nothing linked
# to the host's interfaces), in-guest/tap-traffic.sh: for each round of
# ROUNDS (its round_off), MIB MiB each way, sha256-checked, with the
# offload counters the guest checks; the host half of each transfer
# (xfer.py) runs inside the namespace.  Sets an EXIT trap (netns_cleanup).
guest_tap_traffic() {
    local name=$1 mib=$2 rounds=$3 ns=splitnet-$1-$$ data want r out n s rc=0
    trap netns_cleanup EXIT
    netns_new "$ns"
    netns_tap "$ns" sntap0
    ip -n "$ns" addr add 10.77.0.1/24 dev sntap0
    data=$GUEST_LOGDIR/$name.h2g
    want=$(host_data "$data" "$mib")
    guest_driver
    guest_net_helpers
    guest_env "GUEST_IP=10.77.0.2/24" "MIB=$mib" "ROUNDS=$rounds" "H2G_SHA256=$want"
    guest_netns "$ns"
    guest_start "$name" tap-traffic.sh \
        -netdev tap,id=n0,ifname=sntap0,script=no,downscript=no,vnet_hdr=on \
        -device splitnet,netdev=n0,romfile=,mac=52:54:00:77:01:02
    for r in $rounds; do
        guest_ready "$name" "h2g-$r" || { rc=1; break; }
        out=$(ip netns exec "$ns" python3 "$SPLITNET_TOP/tests/guest/xfer.py" \
            send 5001 "$data" --host 10.77.0.2 --timeout 300) || { rc=1; break; }
        read -r _ n s <<<"$out"
        diag "$r: host->guest $n bytes in $s s ($(mbit "$n" "$s"))"
        guest_http_g2h "$name" "g2h-$r" "$mib" ip netns exec "$ns" \
            python3 "$SPLITNET_TOP/tests/guest/xfer.py" recv 5002 \
            --host 10.77.0.2 || { rc=1; break; }
    done
    rm -f "$data"
    guest_finish "$name" 300 || rc=1
    [ "$rc" = 0 ] || return 1
    diag "host->guest sha256 $want (checked in the guest each round)"
    for r in $rounds; do
        diag "offloads $r: $(guest_value "$name" "offloads $r:")"
        diag "rx offloads $r: $(guest_value "$name" "rx offloads $r:")"
    done
}
