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
DMARW_TEST=host
# shellcheck source=../lib/testlib.sh
. tests/lib/testlib.sh
# shellcheck source=../lib/check_json.sh
. tests/lib/check_json.sh

[ -x "$B" ] || { fail build "no $B (run make)"; finish; }

# --help everywhere
expect help 0 'Usage: dmarefwatch' -- "$B" --help
for c in trace run snapshot record report top watch; do
	expect help-$c 0 "Usage: dmarefwatch.* $c" -- "$B" $c --help
done
expect version 0 '^dmarefwatch [0-9]' -- "$B" --version

# arguments
expect no-command 2 'Usage' -- "$B"
expect unknown-command 2 "unknown command 'frob'" -- "$B" frob
expect unknown-option 2 "unknown option '--frob'" -- "$B" --frob trace
expect bad-mode 2 "--mode takes auto, fentry or kprobe" -- "$B" --mode uprobe trace
expect mode-needs-value 2 "option --mode needs a value" -- "$B" --mode
expect max-refs-zero 2 "--max-references takes a count from 1 to 1048576, not '0'" -- "$B" --max-references 0 trace
expect max-refs-word 2 "--max-references takes a count from 1 to 1048576, not 'many'" -- "$B" --max-references=many trace
expect max-refs-needs-value 2 "option --max-references needs a value" -- "$B" --max-references
expect run-no-cmd 2 'run needs a command' -- "$B" run --grace 1
expect run-bad-grace 2 "--grace takes seconds" -- "$B" run --grace soon -- true
expect run-bad-exitcode 2 "--error-exitcode takes 1 to 255" -- "$B" run --error-exitcode 0 -- true
expect run-bad-fail-on 2 "--fail-on takes error or warning" -- "$B" run --fail-on never -- true
expect run-unknown 2 "unknown option '--frob'" -- "$B" run --frob 1 -- true
expect trace-bad-duration 2 "--duration takes seconds" -- "$B" trace --duration -3
expect record-needs-o 2 'record needs -o FILE' -- "$B" record --duration 1
expect report-needs-file 2 'report needs a trace file' -- "$B" report
expect report-two-files 2 'report takes one trace file' -- "$B" report a b

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
	expect snapshot-sysfs-fallback 0 'no findings' -- "$B" snapshot
	# the service: nothing pinned when it cannot trace
	expect watch-service-no-trace 2 'cannot trace here' -- "$B" watch --service --duration 1
	if [ -e /sys/fs/bpf/dmarefwatch ]; then
		fail watch-service-nothing-pinned "/sys/fs/bpf/dmarefwatch exists"
	else
		pass watch-service-nothing-pinned
	fi
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
check_eq report-exit-1 "$rc" 1
check_json report-schema "$tmp/r.json" "$tmp/j.xml"
for k in leaked-reference unbalanced-put unregister-with-users release-pending; do
	check_report "report-finds-$k" "$tmp/r.json" count "$k" 1
done
check_report report-names-holder "$tmp/r.json" count leaked-reference 1 channel=dma0chan1 \
	holder.function=dmarw_client_request_by_mask holder.module=dmarw_client
if grep -q 'holder: .* in dmarw_client_request_by_mask \[dmarw_client\]' "$tmp/out"; then
	pass report-text-holder
else
	fail report-text-holder "$(head -5 "$tmp/out")"
fi
if python3 tests/host/junit_failures.py "$tmp/j.xml"; then
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
expect report-suppressed 0 'suppressed' -- "$B" report --suppressions "$tmp/supp" "$T"
expect report-fail-on-warning 1 'release-pending' -- "$B" report --suppressions "$tmp/supp" --fail-on warning "$T"

# bad trace and suppression files
expect report-missing 2 'error: .*nosuch' -- "$B" report "$tmp/nosuch"
printf 'not json\n' >"$tmp/garbage"
expect report-garbage 2 "error: .*garbage:1" -- "$B" report "$tmp/garbage"
: >"$tmp/empty"
expect report-empty 2 'error: .*empty' -- "$B" report "$tmp/empty"
head -c 2000 "$T" >"$tmp/truncated"
# an interrupted recording: replayed up to its last complete line (issue 12)
expect report-truncated 0 'truncated: cut inside line [0-9]+' -- "$B" report "$tmp/truncated"
sed '3s/"type":"hook"/"type":"frob"/' "$T" >"$tmp/badtype"
expect report-bad-type 2 'error: .*badtype:3' -- "$B" report "$tmp/badtype"
head -c 100000 /dev/urandom >"$tmp/random"
expect report-random 2 'error: ' -- "$B" report "$tmp/random"
printf '{\n   x\n   kind: no-such-kind\n}\n' >"$tmp/badsupp"
expect report-bad-suppressions 2 'error: .*badsupp:3' -- "$B" report --suppressions "$tmp/badsupp" "$T"
expect report-unwritable 2 'cannot write' -- "$B" report --json-report /nonexistent/dir/r.json "$T"

finish
