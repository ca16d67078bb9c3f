#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Every libFuzzer harness of tests/fuzz/ (ASan+UBSan, halt on the first
# error) for FUZZ_SECONDS each (default 30), from its seed corpus in
# tests/fuzz/corpus/NAME (new inputs go to a temporary directory, not the
# repository).  A crash, leak, UBSan report or an input slower than 10 s
# fails; each fuzzer prints its execution count.  `make fuzz` runs longer.
cd "$(dirname "$0")/../.." || exit 1
secs=${FUZZ_SECONDS:-30}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DMARW_TEST=fuzz
# shellcheck source=../lib/testlib.sh
. tests/lib/testlib.sh

if ! make -s fuzzers >"$tmp/build.log" 2>&1; then
	fail build "make fuzzers: $(tail -3 "$tmp/build.log" | tr '\n' ' ')"
	finish
fi
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for src in tests/fuzz/fuzz_*.c; do
	n=$(basename "$src" .c)
	name=${n#fuzz_}
	mkdir -p "$tmp/$name" "$tmp/$name.art"
	log=$tmp/$name.log
	build/fuzz/"$n" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 -artifact_prefix="$tmp/$name.art/" \
		"$tmp/$name" "tests/fuzz/corpus/$name" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ "$rc" -ne 0 ]; then
		fail "$name" "exit $rc after ${execs:-?} executions: $(grep -m1 -E 'ERROR|runtime error|SUMMARY' "$log")"
		ls "$tmp/$name.art"
	elif [ -z "$execs" ] || [ "$execs" -lt 100 ]; then
		fail "$name" "only ${execs:-no} executions in ${secs}s"
	else
		pass "$name ($execs executions in ${secs}s, no crash)"
	fi
done
finish
