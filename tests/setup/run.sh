#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Setup tests, as TAP (one command of tests/run-suite.sh; seconds, offline):
#
#  - configure's dependency step, as a user other than root, asked for one
#    more package that dpkg has never heard of (SPLITNET_TEST_EXTRA_DEP, an
#    override only tests use): it must stop, non-zero, with a message and the
#    `apt-get install` line that names the package.  Once through the
#    README's path (./configure; --qemu-src=<a missing directory> only keeps
#    it offline if step 1 ever let it through) and once through
#    ./configure --check-deps, which must write nothing.  With the real
#    dependencies only (installed, since configure ran before `make check`)
#    --check-deps exits 0.
#  - scripts/lib.sh's ERR trap: a command that fails at the top level of a
#    script is named with its exit status, file and line; failures that are
#    expected (inside $(...) under || true, in conditions) print nothing and
#    do not stop the script.
#
# configure and scripts/lib.sh are copied into a scratch directory, so the
# other user needs no access to this tree and nothing here changes.  As
# root the checks run as user nobody (setpriv).
#
# Usage: tests/setup/run.sh [--configure FILE] [--lib FILE]
#   test another configure or scripts/lib.sh (e.g. an old one:
#   --configure <(git show REV:configure))

set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CONFIGURE=$TOP/configure
LIB=$TOP/scripts/lib.sh
while [ $# -gt 0 ]; do
    case $1 in
    --configure) CONFIGURE=${2:?--configure needs a file}; shift ;;
    --lib) LIB=${2:?--lib needs a file}; shift ;;
    -h|--help) sed -n '3,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "Bail out! unknown argument $1"; exit 1 ;;
    esac
    shift
done

BOGUS=splitnet-test-no-such-package
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
chmod 755 "$TMP"
mkdir -p "$TMP/src/scripts" "$TMP/home"
cp "$CONFIGURE" "$TMP/src/configure" && cp "$LIB" "$TMP/src/scripts/lib.sh" ||
    { echo "Bail out! cannot copy $CONFIGURE and $LIB"; exit 1; }
chmod 755 "$TMP/src/configure"
chmod 644 "$TMP/src/scripts/lib.sh"

# as_user CMD...: run CMD as a user other than root, with a clean
# environment (as a user's login would give: no sbin in PATH).
USER_DESC="uid $(id -u)"
as_user=(env -i)
if [ "$(id -u)" = 0 ]; then
    uid=$(id -u nobody 2>/dev/null) && gid=$(id -g nobody) ||
        { echo "Bail out! no user nobody to run the checks as"; exit 1; }
    chown "$uid:$gid" "$TMP/home" "$TMP/src"
    as_user=(setpriv --reuid="$uid" --regid="$gid" --clear-groups env -i)
    USER_DESC="user nobody, uid $uid"
fi
as_user() {
    "${as_user[@]}" HOME="$TMP/home" PATH=/usr/local/bin:/usr/bin:/bin \
        LANG=C.UTF-8 "$@"
}

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {  # not_ok DESCRIPTION OUTPUT-FILE
    n=$((n + 1))
    failed=1
    echo "not ok $n - $1"
    if [ -s "${2:-}" ]; then sed 's/^/# | /' "$2"; else echo "# (no output)"; fi
}
check() {  # check DESCRIPTION OUTPUT-FILE STATUS: ok when STATUS is 0
    if [ "$3" -eq 0 ]; then ok "$1"; else not_ok "$1" "$2"; fi
}

# apt_line OUTPUT-FILE: an `apt-get install` line naming $BOGUS as a word
apt_line() { grep -E "apt-get install .*(^|[ =])$BOGUS( |;|$)" "$1" >/dev/null; }
# error_line OUTPUT-FILE: configure said why it stopped
error_line() { grep -E '^splitnet: error: .*(missing|depend)' "$1" >/dev/null; }

# --- 1-3: ./configure, the README's command, as that user --------------------

out=$TMP/configure.out
(cd "$TMP/src" && as_user SPLITNET_TEST_EXTRA_DEP=$BOGUS \
    timeout 120 ./configure --qemu-src="$TMP/no-qemu-here") >"$out" 2>&1
rc=$?
echo "# ./configure as $USER_DESC, SPLITNET_TEST_EXTRA_DEP=$BOGUS: exit $rc"
[ "$rc" -ne 0 ]
check "./configure ($USER_DESC) with $BOGUS missing exits non-zero" "$out" $?
error_line "$out"
check "./configure ($USER_DESC) says why it stops (splitnet: error: ... missing ...)" "$out" $?
apt_line "$out"
check "./configure ($USER_DESC) prints the apt-get install line naming $BOGUS" "$out" $?

# --- 4: ./configure --check-deps ---------------------------------------------

out=$TMP/check-deps.out
(cd "$TMP/src" && as_user SPLITNET_TEST_EXTRA_DEP=$BOGUS \
    timeout 120 ./configure --check-deps) >"$out" 2>&1
rc=$?
echo "# ./configure --check-deps, SPLITNET_TEST_EXTRA_DEP=$BOGUS: exit $rc"
rm -rf "$TMP/src/build"     # from step 1-3's configure (mkdir build)
[ "$rc" -ne 0 ] && error_line "$out" && apt_line "$out"
check "./configure --check-deps ($USER_DESC) with $BOGUS missing: exit non-zero, a message, the apt-get line" \
    "$out" $?
# (and writes nothing: the tree had build/ removed just before)
[ ! -e "$TMP/src/build" ]
check "./configure --check-deps writes nothing (no build/)" "$out" $?

# --- 5: the real dependencies are there --------------------------------------

out=$TMP/check-deps-ok.out
(cd "$TMP/src" && as_user timeout 120 ./configure --check-deps) >"$out" 2>&1
rc=$?
echo "# ./configure --check-deps, the real dependencies only: exit $rc"
check "./configure --check-deps ($USER_DESC) exits 0 when every dependency is installed" \
    "$out" "$rc"

# --- 6-7: the ERR trap -------------------------------------------------------

script=$TMP/trap-test.sh
cat > "$script" <<EOF
#!/bin/bash
set -euo pipefail
. "$TMP/src/scripts/lib.sh"
expected() {
    local x
    x=\$( { grep -c nothing /dev/null || true; } | cat)
    if ! grep -q nothing /dev/null; then :; fi
    x=\$(sh -c 'exit 5'; echo "\$x")
    [ -n "\$x" ] || return 1
}
expected
echo reached
v=\$(echo ignored; sh -c 'exit 4')
echo "not reached \$v"
EOF
line=$(grep -n "^v=" "$script" | cut -d: -f1)
out=$TMP/trap.out
err=$TMP/trap.err
bash "$script" >"$out" 2>"$err"
rc=$?
cat "$out" >> "$err"
want="splitnet: error: 'v=\$(echo ignored; sh -c 'exit 4')' failed (exit 4) at $script:$line"
echo "# ERR trap script: exit $rc"
[ "$rc" -eq 4 ] && grep -qxF "$want" "$err"
check "ERR trap: a top-level failure prints \"splitnet: error: '<command>' failed (exit N) at <file>:<line>\" and exits N" \
    "$err" $?
grep -qx reached "$out" && ! grep -q "not reached" "$out" &&
    [ "$(grep -c "^splitnet: error:" "$err")" -eq 1 ]
check "ERR trap: expected failures (in \$(...), conditions) print nothing and do not stop the script" \
    "$err" $?

echo "1..$n"
exit "$failed"
