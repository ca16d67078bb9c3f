#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The JSON and JUnit outputs against their published schemas (docs/schema/)
# on the build host, without a VM: the report of a trace recorded on a real
# kernel (tests/data/leak-unbind.trace) as report --json, --json-report and
# --junit write it, the snapshot of this host, the error object of --json;
# and documents broken on purpose, which the validator must refuse
# naming the file, the JSON path and what is wrong.
cd "$(dirname "$0")/../.." || exit 1
B=build/dmarefwatch
T=tests/data/leak-unbind.trace
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DMARW_TEST=json_schema
# shellcheck source=../lib/testlib.sh
. tests/lib/testlib.sh
# shellcheck source=../lib/check_json.sh
. tests/lib/check_json.sh

[ -x "$B" ] || { fail build "no $B (run make)"; finish; }
if ! /usr/bin/python3 -c 'import jsonschema, junitparser' 2>"$tmp/err"; then
	fail validator "python3-jsonschema or python3-junitparser missing (tools/install-deps): $(cat "$tmp/err")"
	finish
fi

# rejects NAME ERE [--schema KIND] FILE: check_json.py refuses FILE (exit 1)
# with a message matching ERE
rejects() {
	local name=$1 re=$2 out rc
	shift 2
	out=$(tests/lib/check_json.py "$@" 2>&1)
	rc=$?
	if [ $rc != 1 ]; then
		fail "$name" "exit $rc, want 1: $out"
	elif ! printf '%s\n' "$out" | grep -qE -- "$re"; then
		fail "$name" "message does not match /$re/: $out"
	else
		pass "$name"
	fi
}

# the report of a real recording, every way it is written
"$B" --json report --json-report "$tmp/r2.json" --junit "$tmp/j.xml" "$T" >"$tmp/r.json" 2>"$tmp/err"
rc=$?
if [ $rc = 1 ]; then pass report-exit-1; else fail report-exit-1 "exit $rc: $(cat "$tmp/err")"; fi
check_json report-json "$tmp/r.json"
check_json report-json-report --schema report "$tmp/r2.json"
check_json report-junit --schema junit "$tmp/j.xml"
# with suppressions: "suppressed" names them, "suppressions" counts their use
printf '{\n   known-leak\n   kind: leaked-reference\n}\n{\n   never-used\n   kind: get-failed\n}\n' \
	>"$tmp/supp"
"$B" --json report --suppressions "$tmp/supp" --junit "$tmp/js.xml" "$T" >"$tmp/rs.json" 2>"$tmp/err"
check_json report-suppressed "$tmp/rs.json" "$tmp/js.xml"
if grep -q '"suppressed": "known-leak"' "$tmp/rs.json"; then
	pass report-suppressed-named
else
	fail report-suppressed-named "no \"suppressed\": \"known-leak\""
fi

# a run's command may span lines: still one line per file from the validator
sed '0,/"tool": "dmarefwatch",/s//"tool": "dmarefwatch", "command": "bash -c \\". lib;\\n\\tclient get\\"",/' \
	"$tmp/r.json" >"$tmp/cmd.json"
check_json report-command-on-lines "$tmp/cmd.json"

# the snapshot of this host (sysfs when BPF is refused): a report too
if "$B" --json snapshot >"$tmp/snap.json" 2>"$tmp/err"; then
	check_json snapshot-json --schema report "$tmp/snap.json"
else
	fail snapshot-json "exit $?: $(cat "$tmp/err")"
fi

# an error with --json: the error object on stdout, alone (and the one
# line on stderr: tests/host/json_errors.sh)
"$B" --json report "$tmp/nosuch" >"$tmp/error.json" 2>"$tmp/err"
rc=$?
if [ $rc = 2 ]; then pass error-exit-2; else fail error-exit-2 "exit $rc: $(cat "$tmp/err")"; fi
check_json error-object "$tmp/error.json"
"$B" report --bogus --json >"$tmp/error-option.json" 2>/dev/null
check_json error-object-option --schema error "$tmp/error-option.json"

# broken on purpose: each must be refused, naming what is wrong where
R=$tmp/r.json
sed '0,/"drv_name"/{/"drv_name"/d}' "$R" >"$tmp/no-key.json"
rejects rejects-missing-key "^invalid .*/no-key.json: document: \\\$\\.findings\\[0\\]: 'drv_name' is a required property" \
	"$tmp/no-key.json"
sed '0,/"kind": "leaked-reference"/s//"kind": "leaked-refrence"/' "$R" >"$tmp/bad-kind.json"
rejects rejects-unknown-kind "^invalid .*/bad-kind.json: document: \\\$\\.findings\\[[0-9]\\]\\.kind: 'leaked-refrence' is not one of" \
	"$tmp/bad-kind.json"
sed '0,/"count": 1,/s//"count": 1, "frob": 1,/' "$R" >"$tmp/extra.json"
rejects rejects-unknown-member "findings\\[0\\]: Additional properties are not allowed \\('frob' was unexpected\\)" \
	"$tmp/extra.json"
sed '0,/"severity": "error"/s//"severity": "warning"/' "$R" >"$tmp/bad-severity.json"
rejects rejects-severity-of-kind "findings\\[0\\]\\.severity: 'error' was expected" "$tmp/bad-severity.json"
printf '{"error":"x","code":2}\n' >"$tmp/error-extra.json"
rejects rejects-error-member "error-extra.json: document: \\\$: Additional properties are not allowed \\('code'" \
	"$tmp/error-extra.json"
printf '{"error":""}\n' >"$tmp/error-empty.json"
rejects rejects-error-empty "error-empty.json: document: \\\$\\.error: '' is too short" "$tmp/error-empty.json"
sed '0,/"schema": 2/s//"schema": 3/' "$R" >"$tmp/v2.json"
rejects rejects-unknown-version '\$\.schema: 3, but this validator knows report schema 2' "$tmp/v2.json"
sed '0,/"mode": "fentry"/s//"mode": "uprobe"/' "$R" >"$tmp/bad-mode.json"
rejects rejects-hook-mode "stats\\.hooks\\[[0-9]+\\]\\.mode: 'uprobe' is not one of" "$tmp/bad-mode.json"
head -c 2000 "$R" >"$tmp/cut.json"
rejects rejects-cut-report 'cut.json: document: not JSON' --schema report "$tmp/cut.json"
sed 's/"count": 1,/"count": 1, "count": 2,/' "$R" >"$tmp/dup.json"
rejects rejects-duplicate-key "dup.json: document: not JSON: duplicate key 'count'" "$tmp/dup.json"
rejects rejects-report-as-junit 'r.json: not JUnit XML' --schema junit "$R"
rejects rejects-trace-as-report 'leak-unbind.trace: .*not JSON' --schema report "$T"
# the recording is format 1: this build writes 3, and the schema says so
rejects rejects-old-trace "leak-unbind.trace: line 1: \\\$\\.dmarefwatch_trace: 3 was expected" "$T"
sed '1s/"dmarefwatch_trace":1/"dmarefwatch_trace":3/' "$T" >"$tmp/v2.trace"
check_json trace-file "$tmp/v2.trace"
sed '3s/"type":"hook"/"type":"frob"/' "$tmp/v2.trace" >"$tmp/bad-type.trace"
rejects rejects-trace-type "bad-type.trace: line 3: \\\$\\.type: 'frob' is not one of" "$tmp/bad-type.trace"
sed '1d' "$tmp/v2.trace" >"$tmp/no-header.trace"
rejects rejects-trace-no-header 'no-header.trace: line 1: line 1 is not the header' --schema trace \
	"$tmp/no-header.trace"
# JUnit: counts that disagree with the testcases, a finding kind missing
sed 's/tests="10"/tests="9"/' "$tmp/j.xml" >"$tmp/count.xml"
rejects rejects-junit-count 'count.xml: testsuite dmarefwatch: tests="9", but it has 10' "$tmp/count.xml"
sed 's/name="get-failed"/name="got-failed"/' "$tmp/j.xml" >"$tmp/kinds.xml"
rejects rejects-junit-kinds "kinds.xml: testcases .*got-failed.*, want one per finding kind" "$tmp/kinds.xml"
# several files at once: one line each, the bad one named
out=$(tests/lib/check_json.py "$R" "$tmp/bad-kind.json" "$tmp/j.xml" 2>&1)
rc=$?
if [ $rc = 1 ] && [ "$(printf '%s\n' "$out" | grep -c '^ok ')" = 2 ] &&
	printf '%s\n' "$out" | grep -q '^invalid .*bad-kind.json: '; then
	pass several-files
else
	fail several-files "exit $rc: $out"
fi
out=$(tests/lib/check_json.py --schema frob "$R" 2>&1)
rc=$?
if [ $rc = 2 ] && printf '%s\n' "$out" | grep -q -- "--schema takes report, watch"; then
	pass bad-schema-option
else
	fail bad-schema-option "exit $rc: $out"
fi

finish
