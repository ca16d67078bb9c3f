#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Hostile input and failed starts on the build host (which cannot trace):
# no crash, a clear error, and no output file truncated or half-written.
cd "$(dirname "$0")/../.." || exit 1
B=$PWD/build/dmarefwatch
T=$PWD/tests/data/leak-unbind.trace
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DMARW_TEST=hostile
# shellcheck source=../lib/testlib.sh
. tests/lib/testlib.sh

# in_tmp ARGS...: the tool in $tmp, killed after 20 s
# shellcheck disable=SC2317 # called through expect
in_tmp() { cd "$tmp" && timeout 20 "$B" "$@"; }

# left_tmp: print the temporaries left in $tmp; true if there is one
left_tmp() {
	find "$tmp" -name '.*.tmp.*' | grep .
}

# unchanged NAME FILE...: each file still holds "keep", and no temporary is left
unchanged() {
	local name=$1 f
	shift
	for f in "$@"; do
		if [ "$(cat "$tmp/$f")" != keep ]; then
			fail "$name" "$f was changed to $(wc -c < "$tmp/$f") bytes"
			return
		fi
	done
	if left_tmp; then
		fail "$name" "temporary file left: $(left_tmp)"
		return
	fi
	pass "$name"
}

[ -x "$B" ] || { fail build "no $B (run make)"; finish; }

# an empty first line crashed report (SIGSEGV, exit 139)
printf '\n' > "$tmp/empty-line"
expect empty-line 2 'empty-line:1: ' -- in_tmp report empty-line
printf '\n\n' > "$tmp/empty-lines"
expect empty-lines 2 'empty-lines:1: ' -- in_tmp report empty-lines

# a recording cut inside a line replays up to its last complete line
head -c 3000 "$T" > "$tmp/cut"
expect cut-mid-line 0 'cut: cut inside line [0-9]+ .*replayed up to the last complete line' -- in_tmp report cut

# a FIFO without a writer blocked for ever; a device is no trace either
mkfifo "$tmp/fifo"
expect fifo-trace 2 'fifo: not a regular file' -- in_tmp report fifo
expect fifo-suppressions 2 'fifo: not a regular file' -- in_tmp report --suppressions fifo "$T"
expect device-trace 2 '/dev/zero: not a regular file' -- in_tmp report /dev/zero

# numbers: overflow, nan and out-of-range durations are refused
expect top-batch-overflow 2 "--batch takes a number of frames" -- in_tmp top --batch 99999999999999999999
expect top-batch-junk 2 "--batch takes a number of frames" -- in_tmp top --batch 3x
expect grace-nan 2 "--grace takes seconds, not 'nan'" -- in_tmp run --grace nan -- true
expect grace-overflow 2 "--grace takes seconds, not '1e9h'" -- in_tmp run --grace 1e9h -- true
expect duration-overflow 2 "--duration takes seconds" -- in_tmp record -o r --duration 2e8m
expect exitcode-overflow 2 "--error-exitcode takes 1 to 255" -- in_tmp run --error-exitcode 99999999999999999999 -- true

# a start that fails (this host cannot trace) truncates no output
for f in X Y Z; do echo keep > "$tmp/$f"; done
expect run-fails 2 'cannot trace here' -- in_tmp -o X run --junit Y --json-report Z -- true
unchanged run-outputs-kept X Y Z
expect trace-fails 2 'cannot trace here' -- in_tmp -o X trace
unchanged trace-output-kept X
expect top-fails 2 'cannot trace here' -- in_tmp -o X top --batch 1
unchanged top-output-kept X
expect record-fails 2 'cannot trace here' -- in_tmp -o X record --duration 1
unchanged record-output-kept X
expect run-record-fails 2 'cannot trace here' -- in_tmp run --record X -- true
unchanged run-record-kept X

# paths are checked before anything is attached; only regular files are replaced
ln -s /dev/null "$tmp/link"
expect prometheus-symlink 2 'link: not a regular file' -- in_tmp watch --prometheus link
expect prometheus-device 2 '/dev/null: not a regular file' -- in_tmp watch --prometheus /dev/null
mkdir "$tmp/dir"
expect record-to-dir 2 'dir: not a regular file' -- in_tmp -o dir record
expect report-to-dir 2 'dir: not a regular file' -- in_tmp --json -o dir report "$T"
expect junit-to-dir 2 'dir: not a regular file' -- in_tmp report --junit dir "$T"
# a character device is written in place, never replaced
expect report-to-dev-null 1 '' -- in_tmp -o /dev/null report "$T"
expect json-report-dir 2 'cannot write /nonexistent/r.json' -- in_tmp report --json-report /nonexistent/r.json "$T"
expect run-record-dir 2 'cannot write /nonexistent/t' -- in_tmp run --record /nonexistent/t -- true

# a report replaces a regular file whole, through a temporary beside it
expect report-replaces 1 '' -- in_tmp -o X report "$T"
if head -1 "$tmp/X" | grep -q 'dmarefwatch: 4 findings' && ! left_tmp; then
	pass report-replaced-whole
else
	fail report-replaced-whole "X: $(head -1 "$tmp/X"), $(left_tmp)"
fi

# through a symlink to a regular file: the file is replaced, the link kept
echo keep > "$tmp/target"
ln -s target "$tmp/tlink"
expect report-via-symlink 1 '' -- in_tmp -o tlink report "$T"
if [ -L "$tmp/tlink" ] && head -1 "$tmp/target" | grep -q 'dmarefwatch: 4 findings'; then
	pass symlink-kept-target-replaced
else
	fail symlink-kept-target-replaced "tlink: $(ls -l "$tmp/tlink"), target: $(head -1 "$tmp/target")"
fi

finish
