#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A kernel without BTF, made from one with it: the kernel's
# /sys/kernel/btf/vmlinux is cut down to the types dmarefwatch reads
# (bpftool gen min_core_btf, as docs/btf.md tells a board developer), then
# hidden under a tmpfs.  Without --btf the tool says what to do and exits 2;
# with --btf it runs in kprobe mode and finds what tool_findings finds with
# the kernel's own BTF: a double release, an unbind with a holder, a leak,
# each holder named by function and module.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
vm_main --timeout 600 --expect-splat 'chan reference count' -- "$@"

B=$DMARW_REPO/build/dmarefwatch
R=/tmp/report.json
L=$DMARW_TESTS_DIR/lib.sh
MIN=/tmp/dmarefwatch.btf

# dmarw ARGS... -- SCRIPT: run the tool with a bash script as CMD; sets $rc
dmarw() {
	rm -f "$R"
	"$B" "$@" >/tmp/run.out 2>&1
	rc=$?
	# every report is validated against docs/schema at the end, in one call
	[ -f "$R" ] && cp "$R" "$REPORTS/run-$((++nrun)).json"
}
nrun=0
REPORTS=$(mktemp -d /tmp/reports.XXXXXX)

# the documented recipe, on the kernel's own BTF
check bpf-object-written "$B" bpf-object /tmp/dmarefwatch.bpf.o
check min-btf-generated bpftool gen min_core_btf /sys/kernel/btf/vmlinux "$MIN" \
	/tmp/dmarefwatch.bpf.o
full=$(stat -c %s /sys/kernel/btf/vmlinux)
small=$(stat -c %s "$MIN" 2>/dev/null || echo 0)
echo "# BTF: kernel $full bytes, min_core_btf $small bytes"
check min-btf-smaller test "$small" -gt 0 -a "$small" -lt $((full / 20))

# from here on this kernel has no BTF, as far as anyone can see
check hide-kernel-btf mount -t tmpfs none /sys/kernel/btf
check_fails kernel-btf-hidden test -e /sys/kernel/btf/vmlinux

if ! prov_load nchan=4 || ! client_load; then
	fail load "cannot load the test modules"
	finish
fi

dmarw run -- true
check_eq no-btf-exit "$rc" 2
check_match no-btf-says-what-to-do "$(cat /tmp/run.out)" \
	'^dmarefwatch: error: .*has no BTF.*--btf FILE or DMAREFWATCH_BTF'
check_eq no-btf-one-line "$(wc -l </tmp/run.out)" 1

dmarw --btf "$MIN" --mode fentry run -- true
check_eq fentry-refused-exit "$rc" 2
check_match fentry-refused-why "$(cat /tmp/run.out)" 'fentry needs the kernel.s own BTF'

dmarw --btf /etc/passwd run -- true
check_eq bad-btf-exit "$rc" 2
check_match bad-btf-why "$(cat /tmp/run.out)" 'cannot read BTF from /etc/passwd'

# clean: requests by mask and name, releases; kprobes chosen by themselves
dmarw --btf "$MIN" run --grace 0.3 --json-report "$R" -- bash -c ". $L;
	client request 0 mask; client request 1 name tx; client request 2 name rx;
	client memcpy 0 4096; client release 0; client release 1; client release 2"
check_eq clean-exit "$rc" 0 || sed 's/^/# /' /tmp/run.out
check_match clean-says-kprobe "$(cat /tmp/run.out)" \
	"no kernel BTF: kprobe mode, types from $MIN"
check_report clean-no-finding "$R" total 0
check_report clean-hook-mode "$R" hook dma_chan_get kprobe
check_report clean-final-count "$R" channel dma0chan0 client_count 0

# the same from the environment, as the systemd unit sets it
rm -f "$R"
DMAREFWATCH_BTF=$MIN "$B" run --grace 0.3 --json-report "$R" -- \
	bash -c ". $L; client request 2 mask; client release-twice 2" >/tmp/run.out 2>&1
rc=$?
cp "$R" "$REPORTS/run-env.json" 2>/dev/null
check_eq double-release-exit "$rc" 3
check_report double-release-found "$R" count unbalanced-put 1 channel=dma0chan0 \
	holder.function=dmarw_client_release_twice holder.module=dmarw_client
check_report double-release-only "$R" total 1

dmarw --btf "$MIN" --mode kprobe run --grace 0.3 --json-report "$R" -- bash -c ". $L;
	client request 0 mask; unbind dmarw_prov.0; client release 0"
check_eq unbind-exit "$rc" 3
check_report unbind-found "$R" count unregister-with-users 1 channel=dma0chan0 \
	holder.function=dmarw_client_request_by_mask holder.module=dmarw_client
check_report unbind-only "$R" total 1
check_report unbind-stack "$R" stack unregister-with-users dma_chan_get __dma_request_channel \
	dmarw_client_request_by_mask vfs_write
bind dmarw_prov.0

# the leak (pins the provider: last)
dmarw --btf "$MIN" run --grace 0.3 --json-report "$R" -- bash -c ". $L;
	client request 0 mask; client forget 0"
check_eq leak-exit "$rc" 3
check_report leak-found "$R" count leaked-reference 1 channel=dma0chan0 \
	holder.function=dmarw_client_request_by_mask holder.module=dmarw_client
check_report leak-only "$R" total 1
check_eq leak-kernel-in-use "$(in_use dma0chan0)" 1

# the snapshot walks the kernel's list through the same types, not sysfs
dmarw --btf "$MIN" --json -o "$REPORTS/snapshot.json" snapshot
check_fails snapshot-from-bpf grep -q 'BPF not usable' /tmp/run.out
check_match snapshot-lists-device "$(cat "$REPORTS/snapshot.json")" '"dmarw_prov.0"'
check_json schema --schema report "$REPORTS"/*.json
finish
