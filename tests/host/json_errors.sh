#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Under --json every error is also one JSON object on stdout,
# {"error":"..."}, whichever argument is wrong and wherever --json stands;
# the one-line message stays on stderr and the exit status is 2.
cd "$(dirname "$0")/../.." || exit 1
B=build/dmarefwatch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DMARW_TEST=host/json-error
# shellcheck source=../lib/testlib.sh
. tests/lib/testlib.sh
# shellcheck source=../lib/check_json.sh
. tests/lib/check_json.sh

# json_error NAME MESSAGE-SUBSTRING -- ARGS...
json_error() {
	local name=$1 want=$2 rc
	shift 3
	"$B" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	cp "$tmp/out" "$tmp/error-$name.json"	# against docs/schema at the end
	if [ "$rc" != 2 ]; then
		fail "$name" "exit $rc, want 2"
	elif ! python3 tests/host/json_error_check.py "$tmp/out" "$want"; then
		fail "$name" "stdout: $(head -c 300 "$tmp/out")"
	elif [ "$(wc -l <"$tmp/err")" != 1 ] || ! grep -qF -- "$want" "$tmp/err"; then
		fail "$name" "stderr is not the one line: $(head -c 300 "$tmp/err")"
	else
		pass "$name"
	fi
}

json_error unknown-option "report: unknown option '--bogus'" -- --json report --bogus
json_error json-after-the-error "report: unknown option '--bogus'" -- report --bogus --json
json_error missing-file "nosuch.trace: No such file" -- report --json "$tmp/nosuch.trace"
json_error bad-value "--grace takes seconds, not 'soon'" -- run --grace soon -j -- true
json_error unknown-command "unknown command 'frob'" -- --json frob
json_error cannot-trace "cannot trace here" -- --json run -- true
json_error bad-trace "unsupported trace version 9" -- report --json tests/host/data-bad-version.trace

# without --json stdout stays empty; after run's CMD, -j is CMD's
"$B" report --bogus >"$tmp/out" 2>/dev/null
if [ -s "$tmp/out" ]; then
	fail text-mode-stdout-empty "$(head -c 200 "$tmp/out")"
else
	pass text-mode-stdout-empty
fi
"$B" run --grace soon make -j >"$tmp/out" 2>/dev/null
if [ -s "$tmp/out" ]; then
	fail run-cmd-args-not-ours "$(head -c 200 "$tmp/out")"
else
	pass run-cmd-args-not-ours
fi

check_json schema --schema error "$tmp"/error-*.json

finish
