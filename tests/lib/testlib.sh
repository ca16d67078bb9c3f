# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# shellcheck shell=bash
# The test library every shell test shares (host, VM and matrix tests).
# Source it (tests/vm/lib.sh does for the VM tests):
#     DMARW_TEST=host; . tests/lib/testlib.sh
#
# Reporting: "PASS: <name>" and "FAIL: <name>: <reason>" lines on stdout,
# which tests/run counts; names get the prefix "$DMARW_TEST/" (default: the
# script's name), read at each call so a script may change it.  finish
# prints the summary line "# $DMARW_TEST: N passed, N failed" and exits 1
# when anything failed.
# Sourced by the workloads of the VM tests too: no command runs here but
# one basename (an exec costs under TCG).

DMARW_LIB_DIR=${BASH_SOURCE[0]%/*}
[ "$DMARW_LIB_DIR" = "${BASH_SOURCE[0]}" ] && DMARW_LIB_DIR=.
case $DMARW_LIB_DIR in /*) ;; *) DMARW_LIB_DIR=$PWD/$DMARW_LIB_DIR ;; esac
: "${DMARW_TEST:=$(basename "$0" .sh)}"
DMARW_NPASS=0
DMARW_NFAIL=0

pass() {
	echo "PASS: $DMARW_TEST/$1"
	DMARW_NPASS=$((DMARW_NPASS + 1))
}

# fail NAME WHY...: returns 1
fail() {
	local name=$1
	shift
	echo "FAIL: $DMARW_TEST/$name: $*"
	DMARW_NFAIL=$((DMARW_NFAIL + 1))
	return 1
}

# finish: the summary line, then exit 0 when nothing failed, else 1
finish() {
	echo "# $DMARW_TEST: $DMARW_NPASS passed, $DMARW_NFAIL failed"
	[ "$DMARW_NFAIL" -eq 0 ]
	exit $?
}

# check NAME CMD [ARGS...]: PASS when CMD succeeds
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "failed: $*: $(printf '%s' "$out" | tr -s '[:space:]' ' ')"
	fi
}

# check_fails NAME CMD [ARGS...]: PASS when CMD fails
check_fails() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then
		fail "$name" "succeeded unexpectedly: $*"
	else
		pass "$name"
	fi
}

# check_eq NAME GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "got '$2', want '$3'"
	fi
}

# check_match NAME STRING ERE
check_match() {
	if printf '%s\n' "$2" | grep -qE -- "$3"; then
		pass "$1"
	else
		fail "$1" "'$2' does not match /$3/"
	fi
}

# expect NAME STATUS ERE -- CMD [ARGS...]: PASS when CMD exits with STATUS
# and its output (stdout and stderr) has a line matching ERE ('' for any)
expect() {
	local name=$1 want=$2 re=$3 out rc
	if [ $# -lt 5 ] || [ "$4" != -- ] || [[ ! $want =~ ^[0-9]+$ ]]; then
		fail "${name:-expect}" "usage: expect NAME STATUS ERE -- CMD [ARGS...], not: expect $*"
		return
	fi
	shift 4
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$name" "exit $rc, want $want: $(printf '%s\n' "$out" | head -3)"
	elif ! printf '%s\n' "$out" | grep -qE -- "$re"; then
		fail "$name" "output does not match /$re/: $(printf '%s\n' "$out" | head -3)"
	else
		pass "$name"
	fi
}

# check_report NAME REPORT ASSERTION...: a tests/vm/findings.py assertion
# (count, total, errors, channel, hook, stack) on the JSON report REPORT
check_report() {
	local name=$1 report=$2 out
	shift 2
	if out=$("$DMARW_LIB_DIR/../vm/findings.py" "$report" "$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "$out"
	fi
}
