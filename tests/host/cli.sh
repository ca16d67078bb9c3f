#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The tool on the build host, which cannot trace: clear errors and exit 2
# with nothing left attached and no command run; bad input of every kind
# refused with a message; offline report of a trace recorded on a real
# kernel (tests/data/leak-unbind.trace, bookworm 6.1) with the live run's
# findings.
cd "$(dirname "$0")/../.." || exit 1
B=build/dmarefwatch
T=tests/data/leak-unbind.trace
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npass=0 nfail=0
pass() { echo "PASS: host/$1"; npass=$((npass + 1)); }
fail() { echo "FAIL: host/$1: $2"; nfail=$((nfail + 1)); }
# shellcheck source=../lib/check_json.sh
. tests/lib/check_json.sh

# expect NAME STATUS REGEX -- ARGS...: exit status and a stderr+stdout match
expect() {
	local name=$1 want=$2 re=$3 out rc
	shift 4
	out=$("$B" "$@" 2>&1)
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$name" "exit $rc, want $want: $(echo "$out" | head -3)"
	elif ! printf '%s\n' "$out" | grep -qE -- "$re"; then
		fail "$name" "output does not match /$re/: $(echo "$out" | head -3)"
	else
		pass "$name"
	fi
}

[ -x "$B" ] || { fail build "no $B (run make)"; echo "$npass passed, $nfail failed"; exit 1; }

# --help everywhere
expect help 0 'Usage: dmarefwatch' -- --help
for c in trace run snapshot record report top watch; do
	expect help-$c 0 "Usage: dmarefwatch.* $c" -- $c --help
done
expect version 0 '^dmarefwatch [0-9]' -- --version

# arguments
expect no-command 2 'Usage' --
expect unknown-command 2 "unknown command 'frob'" -- frob
expect unknown-option 2 "unknown option '--frob'" -- --frob trace
expect bad-mode 2 "--mode takes auto, fentry or kprobe" -- --mode uprobe trace
expect mode-needs-value 2 "option --mode needs a value" -- --mode
expect run-no-cmd 2 'run needs a command' -- run --grace 1
expect run-bad-grace 2 "--grace takes seconds" -- run --grace soon -- true
expect run-bad-exitcode 2 "--error-exitcode takes 1 to 255" -- run --error-exitcode 0 -- true
expect run-bad-fail-on 2 "--fail-on takes error or warning" -- run --fail-on never -- true
expect run-unknown 2 "unknown option '--frob'" -- run --frob 1 -- true
expect trace-bad-duration 2 "--duration takes seconds" -- trace --duration -3
expect record-needs-o 2 'record needs -o FILE' -- record --duration 1
expect report-needs-file 2 'report needs a trace file' -- report
expect report-two-files 2 'report takes one trace file' -- report a b

# tracing is impossible here: one line that says why, exit 2, nothing left
if "$B" trace --duration 1 >"$tmp/out" 2>"$tmp/err"; then
	rc=0
else
	rc=$?
fi
if [ $rc = 2 ]; then
	pass no-trace-exit-2
	if [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q 'cannot trace here: .*fentry.*kprobe' "$tmp/err"; then
		pass no-trace-one-line-why
	else
		fail no-trace-one-line-why "stderr: $(cat "$tmp/err")"
	fi
	if bpftool prog show >"$tmp/progs" 2>&1; then
		if grep -qE 'fentry_dma|kprobe_dma|snapshot_walk|fexit_dma' "$tmp/progs"; then
			fail no-trace-nothing-attached "programs left: $(grep -E 'dma|snapshot' "$tmp/progs")"
		else
			pass no-trace-nothing-attached
		fi
	fi
	# run must not start the command when it cannot trace it
	"$B" run -- touch "$tmp/ran" >/dev/null 2>&1
	rc=$?
	if [ $rc = 2 ] && [ ! -e "$tmp/ran" ]; then
		pass run-no-trace-no-command
	else
		fail run-no-trace-no-command "exit $rc, command ran: $([ -e "$tmp/ran" ] && echo yes || echo no)"
	fi
	expect snapshot-sysfs-fallback 0 'no findings' -- snapshot
	# without privileges: said before anything is tried
	if command -v setpriv >/dev/null; then
		out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$B" trace 2>&1)
		rc=$?
		if [ $rc = 2 ] && printf '%s' "$out" | grep -q 'tracing needs root'; then
			pass unprivileged-exit-2
		else
			fail unprivileged-exit-2 "exit $rc: $out"
		fi
	fi
else
	echo "# this host can trace (exit $rc): the no-trace checks do not apply"
fi

# offline report of a real recording: the live run's four findings
"$B" report --json-report "$tmp/r.json" --junit "$tmp/j.xml" "$T" >"$tmp/out" 2>&1
rc=$?
[ $rc = 1 ] && pass report-exit-1 || fail report-exit-1 "exit $rc"
check_json report-schema "$tmp/r.json" "$tmp/j.xml"
for k in leaked-reference unbalanced-put unregister-with-users release-pending; do
	if tests/vm/findings.py "$tmp/r.json" count $k 1 >"$tmp/f" 2>&1; then
		pass report-finds-$k
	else
		fail report-finds-$k "$(cat "$tmp/f")"
	fi
done
tests/vm/findings.py "$tmp/r.json" count leaked-reference 1 channel=dma0chan1 \
	holder.function=dmarw_client_request_by_mask holder.module=dmarw_client >"$tmp/f" 2>&1 &&
	pass report-names-holder || fail report-names-holder "$(cat "$tmp/f")"
grep -q 'holder: .* in dmarw_client_request_by_mask \[dmarw_client\]' "$tmp/out" &&
	pass report-text-holder || fail report-text-holder "$(head -5 "$tmp/out")"
if python3 -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); \
	sys.exit(0 if d.getElementsByTagName("failure") else 1)' "$tmp/j.xml"; then
	pass report-junit-valid-with-failures
else
	fail report-junit-valid-with-failures "$(head -c 300 "$tmp/j.xml")"
fi
if grep -qE '0x[0-9a-f]{8,}' "$tmp/out" "$tmp/r.json" "$T"; then
	fail no-kernel-pointers "a raw address in the output or the trace"
else
	pass no-kernel-pointers
fi

# suppressions turn the run green
cat >"$tmp/supp" <<'S'
{
   known-client-bugs
   kind: leaked-reference
   function: dmarw_client_*
}
{
   double-release-under-investigation
   kind: unbalanced-put
   device: dma0
}
{
   test-unbinds-on-purpose
   kind: unregister-with-users
}
S
expect report-suppressed 0 'suppressed' -- report --suppressions "$tmp/supp" "$T"
expect report-fail-on-warning 1 'release-pending' -- report --suppressions "$tmp/supp" --fail-on warning "$T"

# bad trace and suppression files
expect report-missing 2 'error: .*nosuch' -- report "$tmp/nosuch"
printf 'not json\n' >"$tmp/garbage"
expect report-garbage 2 "error: .*garbage:1" -- report "$tmp/garbage"
: >"$tmp/empty"
expect report-empty 2 'error: .*empty' -- report "$tmp/empty"
head -c 2000 "$T" >"$tmp/truncated"
# an interrupted recording: replayed up to its last complete line (issue 12)
expect report-truncated 0 'truncated: cut inside line [0-9]+' -- report "$tmp/truncated"
sed '3s/"type":"hook"/"type":"frob"/' "$T" >"$tmp/badtype"
expect report-bad-type 2 'error: .*badtype:3' -- report "$tmp/badtype"
head -c 100000 /dev/urandom >"$tmp/random"
expect report-random 2 'error: ' -- report "$tmp/random"
printf '{\n   x\n   kind: no-such-kind\n}\n' >"$tmp/badsupp"
expect report-bad-suppressions 2 'error: .*badsupp:3' -- report --suppressions "$tmp/badsupp" "$T"
expect report-unwritable 2 'cannot write' -- report --json-report /nonexistent/dir/r.json "$T"

echo "# host: $npass passed, $nfail failed"
[ $nfail = 0 ]
