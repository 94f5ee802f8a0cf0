#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `make fuzz`: a bounded libFuzzer campaign on splitnet with QEMU's
# generic-fuzz target (generic-fuzz-splitnet, patches/0009), built under
# ASan in build/qemu-build-fuzz (scripts/build-variant.sh fuzz).
#
#   scripts/fuzz.sh [SECONDS] [TARGET]
#
# The corpus lives in build/fuzz/TARGET/corpus and grows from run to run;
# crash, leak, timeout and OOM inputs go to build/fuzz/TARGET/findings.
#
# Leaks are looked for once, over the whole corpus, after the campaign:
# libFuzzer's own leak check (-detect_leaks) runs an input again and has
# LeakSanitizer scan the heap whenever an input ends with more mallocs
# than frees, which every QEMU input does (RCU frees later), and gives up
# after 1000 such inputs.  During the campaign that made the first
# minutes run at a tenth of the speed (generic-fuzz-splitnet: 14 against
# 229 executions a second) and checked only the first 1000 inputs; over
# the corpus it checks every input that found something, in seconds.
# libFuzzer stops at a finding, so the campaign starts it again until the
# time is used up (at most MAX_RESTARTS times).  At the end it prints the
# executions, the coverage (libFuzzer's cov: edges and ft: features), the
# corpus size and the findings, and exits 1 if there is any.  To see a
# finding as the qtest commands that reproduce it:
#
#   QTEST_LOG=1 FUZZ_SERIALIZE_QTEST=1 build/qemu-build-fuzz/qemu-fuzz-x86_64 \
#       --fuzz-target=TARGET build/fuzz/TARGET/findings/crash-...

set -euo pipefail

SPLITNET_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$SPLITNET_TOP/scripts/lib.sh"

SECS=${1:-60}
TARGET=${2:-generic-fuzz-splitnet}
MAX_RESTARTS=${MAX_RESTARTS:-20}
FUZZER=$SPLITNET_BUILD/qemu-build-fuzz/qemu-fuzz-x86_64
DIR=$SPLITNET_BUILD/fuzz/$TARGET

[[ $SECS =~ ^[1-9][0-9]*$ ]] || die "FUZZ_SECONDS must be a positive number, not '$SECS'"
[ -x "$FUZZER" ] || die "no ${FUZZER#"$SPLITNET_TOP"/}; make fuzz builds it"
mkdir -p "$DIR/corpus" "$DIR/findings" "$DIR/logs"
export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
# libFuzzer detects leaks itself (-detect_leaks), at the end of an input.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0

# splitnet-abi-fuzz inputs: a set-up byte, then 16-byte records
# { op, sel, w (le16), v (le32), x (le64) } (tests/qtest/fuzz/splitnet_fuzz.c).
bytes() { printf '%b' "$(printf '\\x%02x' "$@")"; }
le() { local i; for ((i = 0; i < $2; i++)); do bytes $(($1 >> (8 * i) & 255)); done; }
record() { bytes "$1" "$2"; le "$3" 2; le "$4" 4; le "$5" 8; }

# Seeds that already reach the send and receive paths: a frame of two
# fragments, kicked; RX buffers posted and kicked, then a frame for us and
# a broadcast one.
seed_abi() {
    { printf '\x05'; record 2 0x82 50 0 0x0100004000; } > "$DIR/corpus/seed-tx"
    { printf '\x04'; record 5 0x38 2048 0 0x2000
      record 6 0 100 0 0x1234; record 6 1 1500 0 0x99; } > "$DIR/corpus/seed-rx"
    { printf '\x03'; record 2 0x81 20 0 0x40; record 9 0x0c 1 0 0x20
      record 4 0 0 0 0; } > "$DIR/corpus/seed-msix-bar"
}

if [ "$TARGET" = splitnet-abi-fuzz ] && [ -z "$(ls -A "$DIR/corpus")" ]; then
    seed_abi
fi

found_before=$(find "$DIR/findings" -type f | wc -l)
execs=0 runs=0 cov=0 ft=0 corp=0
t0=$SECONDS
say "fuzzing $TARGET for ${SECS}s (corpus ${DIR#"$SPLITNET_TOP"/}/corpus, $(find "$DIR/corpus" -type f | wc -l) inputs)"
while [ $((SECONDS - t0)) -lt "$SECS" ] && [ "$runs" -le "$MAX_RESTARTS" ]; do
    left=$((SECS - (SECONDS - t0)))
    runs=$((runs + 1))
    log=$DIR/logs/run-$runs.log
    before=$(find "$DIR/findings" -type f)
    # Exits non-zero on a finding; the loop goes on with the time left.
    "$FUZZER" --fuzz-target="$TARGET" -max_total_time="$left" \
        -detect_leaks=0 -print_final_stats=1 -rss_limit_mb=4096 \
        -close_fd_mask=1 -artifact_prefix="$DIR/findings/" "$DIR/corpus" \
        >"$log" 2>&1 || true
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    if [ -z "$n" ]; then
        # A finding ends the run before the final stats: count from the
        # last progress line.
        n=$( { grep -oE '^#[0-9]+' "$log" || true; } | tail -n1 | tr -d '#')
    fi
    execs=$((execs + ${n:-0}))
    line=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n1 || true)
    if [ -n "$line" ]; then
        cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$line")
        ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$line")
        corp=$(sed -n 's/.*corp: \([0-9]*\).*/\1/p' <<<"$line")
    fi
    if grep -qE '^==[0-9]+==ERROR|SUMMARY: |Test unit written to' "$log"; then
        say "run $runs: finding after ${n:-0} executions:"
        grep -E 'ERROR: |SUMMARY: |Test unit written to' "$log" | head -n 5 >&2
        # The corpus leads straight to a finding already kept: running
        # again would only find it again.
        unit=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n1)
        if [ -n "$unit" ] && grep -qxF "$unit" <<<"$before"; then
            say "run $runs found a known input again; fix it first (stopping)"
            break
        fi
    elif [ -z "$n" ]; then
        tail -n 20 "$log" >&2
        die "the fuzzer did not start, see ${log#"$SPLITNET_TOP"/}"
    fi
done

# The leak check: every corpus input once more (-runs=0), leaks looked for.
log=$DIR/logs/leak-check.log
say "leak check over the corpus ($(find "$DIR/corpus" -type f | wc -l) inputs)"
"$FUZZER" --fuzz-target="$TARGET" -runs=0 -detect_leaks=1 \
    -print_final_stats=1 -rss_limit_mb=4096 -close_fd_mask=1 \
    -artifact_prefix="$DIR/findings/" "$DIR/corpus" >"$log" 2>&1 || true
leak_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
if grep -qE '^==[0-9]+==ERROR|SUMMARY: ' "$log"; then
    say "leak check: finding:"
    grep -E 'ERROR: |SUMMARY: |Test unit written to' "$log" | head -n 5 >&2
elif [ -z "$leak_runs" ]; then
    tail -n 20 "$log" >&2
    die "the leak check did not run, see ${log#"$SPLITNET_TOP"/}"
fi

found=$(find "$DIR/findings" -type f | wc -l)
new=$((found - found_before))
secs=$((SECONDS - t0))
say "target:      $TARGET"
say "seconds:     $secs ($runs libFuzzer run(s))"
say "executions:  $execs ($((execs / (secs > 0 ? secs : 1)))/s)"
say "coverage:    cov $cov edges, ft $ft features, corpus $corp inputs"
say "leak check:  $leak_runs executions over the corpus"
say "findings:    $new new, $found in ${DIR#"$SPLITNET_TOP"/}/findings"
[ "$new" -eq 0 ] || die "the fuzzer found $new input(s) that crash, leak or hang"
