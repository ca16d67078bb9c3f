#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Matrix scenario for one x86_64 kernel (one boot):
#  1. the attach mode of every hook under --mode auto, fentry and kprobe,
#     printed as "HOOK <kver> <requested> <hook> <mode>" lines (from the JSON
#     report's stats.hooks) plus the tool's own -v lines;
#  2. nested dmaengine_get()/dmaengine_put() under `dmarefwatch run`: on a
#     kernel without the dma_chan_put() stable fix (device kref dropped on
#     every put) the kref underflows and the device is released while
#     registered and while a channel still has a client: the tool must say
#     so (release-with-users, refcount-mismatch); with the fix, no finding.
# Usage (host): tests/matrix/tool_kernel.sh  (DMARW_VM_KERNEL=<suite>)
# shellcheck source=../vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"
DMARW_TEST=tool_kernel
if [ -z "${DMARW_IN_VM:-}" ]; then
	cd "$DMARW_REPO" || exit 1
	tools/vm/run --kernel "${DMARW_VM_KERNEL:-bookworm}" --timeout 600 \
		--expect-splat 'refcount_t: underflow' --expect-splat 'refcount_t: saturated' \
		--expect-splat 'refcount_t: addition on 0' \
		--env DMARW_TEST=$DMARW_TEST -- bash tests/matrix/tool_kernel.sh "$@"
	rc=$?
	[ $rc -ge 120 ] && echo "FAIL: $DMARW_TEST: tools/vm/run failed with status $rc"
	exit $rc
fi

B=$DMARW_REPO/build/dmarefwatch
F=$DMARW_TESTS_DIR/findings.py
R=/tmp/report.json
L=$DMARW_TESTS_DIR/lib.sh
M=$DMARW_REPO/tests/matrix/reports.py

{ prov_load nchan=2 && client_load; } || { fail load "cannot load the test modules"; finish; }

for m in auto fentry kprobe; do
	rm -f "$R"
	"$B" -v --mode $m run --grace 0.2 --json-report "$R" -- true >/tmp/hooks.out 2>&1
	rc=$?
	cp "$R" /tmp/schema-hooks-$m.json 2>/dev/null
	sed 's/^/# /' /tmp/hooks.out | grep -E '^# dmarefwatch:' | head -30
	if [ -s "$R" ]; then
		"$M" hooks "$R" "$DMARW_KVER" $m
		check_eq hooks-$m-exit "$rc" 0
		check_report hooks-$m-get-mode "$R" hook dma_chan_get "$(if [ $m = auto ]; then "$M" mode "$R" dma_chan_get; else echo $m; fi)"
	else
		fail hooks-$m "no report (status $rc): $(tail -3 /tmp/hooks.out)"
	fi
done
"$B" snapshot >/tmp/snap.out 2>&1
check_eq snapshot-exit "$?" 0
sed 's/^/# snapshot: /' /tmp/snap.out | head -20

# single get/put: balanced on every kernel
rm -f "$R"
"$B" run --grace 0.3 --json-report "$R" -- bash -c ". $L; client get; client put" >/tmp/run.out 2>&1
check_eq getput-single-exit "$?" 0
cp "$R" /tmp/schema-getput.json 2>/dev/null
check_report getput-single-no-finding "$R" total 0

# nested get/put (last: it may release the device on kernels without the fix)
rm -f "$R"
"$B" run --grace 0.3 --json-report "$R" -- bash -c ". $L; client get; client get; client put; client put" \
	>/tmp/run.out 2>&1
rc=$?
sed 's/^/# run: /' /tmp/run.out | head -60
if dmesg_has 'refcount_t: underflow|dma device released'; then
	echo "# $DMARW_KVER: no dma_chan_put() stable fix: device kref dropped on every put"
	dmesg | grep -E -B2 -A12 'refcount_t: underflow' | sed 's/^/# dmesg: /' | head -40
	dmesg | grep -E 'dma device released' | sed 's/^/# dmesg: /'
	check_eq getput-nested-exit "$rc" 3
	check_report getput-nested-release-with-users "$R" count release-with-users 1 device=dma0
	if "$F" "$R" count refcount-mismatch 0 >/dev/null 2>&1; then
		fail getput-nested-refcount-mismatch "no refcount-mismatch finding: $("$F" "$R" total 99 2>&1)"
	else
		pass getput-nested-refcount-mismatch
	fi
else
	echo "# $DMARW_KVER: dma_chan_put() stable fix present (kref dropped on the last put)"
	check_eq getput-nested-exit "$rc" 0
	check_report getput-nested-no-finding "$R" total 0
fi
"$M" findings "$R" | sed 's/^/# finding: /'
check_json schema --schema report /tmp/schema-*.json "$R"
finish
