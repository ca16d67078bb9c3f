#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# A kernel without BTF, made from one with it, side by side with the
# kernel's own BTF.  On the host, the file for --btf is made as docs/btf.md
# tells a board developer: tools/btf-from-headers on the guest kernel's
# linux-headers package (a dummy module's DWARF encoded by pahole, cut down
# to the BPF object's relocations with bpftool gen min_core_btf).  In the
# guest, every workload (the cheap finding kinds of tool_findings: clean,
# double release, get-failed, unbind with a held channel, get-after-
# unregister, leak) runs twice: with the kernel's own BTF, then with
# /sys/kernel/btf hidden under a tmpfs and --btf FILE (DMAREFWATCH_BTF for
# one of them, as the systemd unit sets it).  Both runs are in kprobe mode
# (the only mode without kernel BTF), so the BTF is the one difference; they
# must give the same exit status and the same findings: kind, count,
# severity, device, channel, holder function, module and client
# (tests/vm/findings.py same).  The file bpftool gen min_core_btf makes
# from /sys/kernel/btf/vmlinux (step 2 of docs/btf.md) is checked on one
# workload too.  Without --btf the tool says what to do and exits 2.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
if [ -z "${DMARW_IN_VM:-}" ]; then
	# host: the file from the headers of the kernel the guest boots
	cd "$DMARW_REPO" || exit 2
	kinfo=$(tools/vm/kernel "${DMARW_VM_KERNEL:-bookworm}") ||
		{ fail btf-headers "tools/vm/kernel cannot resolve the guest kernel"; finish; }
	kver=$(printf '%s\n' "$kinfo" | sed -n 's/^kver=//p')
	hdrs=$(printf '%s\n' "$kinfo" | sed -n 's/^headers=//p')
	hbtf=build/btf-custom/$kver.btf
	mkdir -p build/btf-custom
	rm -f "$hbtf"
	t0=$EPOCHREALTIME
	if build/dmarefwatch bpf-object build/btf-custom/dmarefwatch.bpf.o >/dev/null &&
		tools/btf-from-headers --min build/btf-custom/dmarefwatch.bpf.o -o "$hbtf" "$hdrs"; then
		pass btf-from-headers
		echo "# BTF from $hdrs: $(stat -c %s "$hbtf") bytes in $(echo "$EPOCHREALTIME - $t0" | bc) s"
	else
		fail btf-from-headers "tools/btf-from-headers failed on $hdrs"
	fi
	vm_main --timeout 900 --expect-splat 'chan reference count' \
		--env "DMARW_HDR_BTF=$DMARW_REPO/$hbtf" -- "$@"
fi

B=$DMARW_REPO/build/dmarefwatch
R=/tmp/report.json
L=$DMARW_TESTS_DIR/lib.sh
MIN=/tmp/dmarefwatch.btf
HBTF=${DMARW_HDR_BTF:-}

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
PAIRS=$(mktemp -d /tmp/pairs.XXXXXX)

# the kernel's BTF, shown or hidden (a tmpfs over /sys/kernel/btf)
btf_hide() { mountpoint -q /sys/kernel/btf || mount -t tmpfs none /sys/kernel/btf; }
btf_show() { ! mountpoint -q /sys/kernel/btf || umount /sys/kernel/btf; }

# both NAME WITH PRE SCRIPT [-FIELD...]: run SCRIPT under `run` with the
# kernel's own BTF, then with WITH (--btf FILE, or env FILE for
# DMAREFWATCH_BTF) and the kernel's hidden; PRE (shell) before each run.
# Checks the second run chose kprobes by itself, and that both runs have the
# same exit status and findings (-FIELD: leave FIELD out).  Leaves the
# reports in $PAIRS/NAME-own.json and $PAIRS/NAME-btf.json.
both() {
	local name=$1 with=$2 pre=$3 script=$4 own_rc btf
	shift 4
	btf_show
	eval "$pre"
	dmarw --mode kprobe run --grace 0.3 --json-report "$R" -- bash -c ". $L; $script"
	own_rc=$rc
	cp "$R" "$PAIRS/$name-own.json" 2>/dev/null
	btf_hide
	eval "$pre"
	case $with in
	env\ *)
		btf=${with#env }
		rm -f "$R"
		DMAREFWATCH_BTF=$btf "$B" run --grace 0.3 --json-report "$R" -- \
			bash -c ". $L; $script" >/tmp/run.out 2>&1
		rc=$?
		[ -f "$R" ] && cp "$R" "$REPORTS/run-$((++nrun)).json" ;;
	*)
		btf=$with
		dmarw --btf "$btf" run --grace 0.3 --json-report "$R" -- bash -c ". $L; $script" ;;
	esac
	cp "$R" "$PAIRS/$name-btf.json" 2>/dev/null
	check_match "$name-btf-kprobe" "$(cat /tmp/run.out)" \
		"no kernel BTF: kprobe mode, types from $btf"
	check_eq "$name-same-exit" "$rc" "$own_rc"
	check_report "$name-same-findings" "$PAIRS/$name-own.json" same "$PAIRS/$name-btf.json" "$@"
	echo "# $name: exit $own_rc with the kernel's BTF, $rc with $with"
}

[ -s "$HBTF" ] || { fail btf-file "no file from the headers (${HBTF:-DMARW_HDR_BTF unset})"; finish; }
case $HBTF in
*/"$DMARW_KVER".btf) pass btf-file-for-this-kernel ;;
*) fail btf-file-for-this-kernel "$HBTF is not made from $DMARW_KVER's headers" ;;
esac

# step 2 of docs/btf.md, on the kernel's own BTF
check bpf-object-written "$B" bpf-object /tmp/dmarefwatch.bpf.o
check min-btf-generated bpftool gen min_core_btf /sys/kernel/btf/vmlinux "$MIN" \
	/tmp/dmarefwatch.bpf.o
full=$(stat -c %s /sys/kernel/btf/vmlinux)
small=$(stat -c %s "$MIN" 2>/dev/null || echo 0)
hsmall=$(stat -c %s "$HBTF")
echo "# BTF: kernel $full bytes, min_core_btf $small bytes, from the headers $hsmall bytes"
check min-btf-smaller test "$small" -gt 0 -a "$small" -lt $((full / 20))
if cmp -s "$MIN" "$HBTF"; then
	echo "# the file from the headers and the one from the kernel's BTF are the same bytes"
else
	echo "# the file from the headers differs from the one from the kernel's BTF (type order or names)"
fi

if ! prov_load nchan=4 || ! client_load; then
	fail load "cannot load the test modules"
	finish
fi

# from here on, while hidden, this kernel has no BTF as far as anyone can see
check hide-kernel-btf btf_hide
check_fails kernel-btf-hidden test -e /sys/kernel/btf/vmlinux

dmarw run -- true
check_eq no-btf-exit "$rc" 2
check_match no-btf-says-what-to-do "$(cat /tmp/run.out)" \
	'^dmarefwatch: error: .*has no BTF.*--btf FILE or DMAREFWATCH_BTF'
check_eq no-btf-one-line "$(wc -l </tmp/run.out)" 1

dmarw --btf "$HBTF" --mode fentry run -- true
check_eq fentry-refused-exit "$rc" 2
check_match fentry-refused-why "$(cat /tmp/run.out)" 'fentry needs the kernel.s own BTF'

dmarw --btf /etc/passwd run -- true
check_eq bad-btf-exit "$rc" 2
check_match bad-btf-why "$(cat /tmp/run.out)" 'cannot read BTF from /etc/passwd'

# clean: requests by mask and name, a copy, releases, dmaengine_get/put
both clean "$HBTF" : "client request 0 mask; client request 1 name tx;
	client request 2 name rx; client memcpy 0 4096; client release 0;
	client release 1; client release 2; client get; client put"
check_eq clean-exit "$rc" 0
check_report clean-no-finding "$R" total 0
check_report clean-hook-mode "$R" hook dma_chan_get kprobe
check_report clean-final-count "$R" channel dma0chan0 client_count 0

# double release, with the file from the environment (the systemd unit's way)
both double-release "env $HBTF" : "client request 2 mask; client release-twice 2"
check_eq double-release-exit "$rc" 3
check_report double-release-found "$R" count unbalanced-put 1 channel=dma0chan0 \
	holder.function=dmarw_client_release_twice holder.module=dmarw_client
check_report double-release-only "$R" total 1

# a failing channel allocation
both get-failed "$HBTF" "prov_param fail_alloc 1" "client request 0 mask; true"
prov_param fail_alloc 0
check_eq get-failed-exit "$rc" 0
check_report get-failed-found "$R" count get-failed 1 severity=info

# unbind with a channel held, the client releases afterwards
both unbind "$HBTF" "bind dmarw_prov.0 2>/dev/null" \
	"client request 0 mask; unbind dmarw_prov.0; client release 0"
check_eq unbind-exit "$rc" 3
check_report unbind-found "$R" count unregister-with-users 1 channel=dma0chan0 \
	holder.function=dmarw_client_request_by_mask holder.module=dmarw_client
check_report unbind-only "$R" total 1
check_report unbind-stack "$R" stack unregister-with-users dma_chan_get __dma_request_channel \
	dmarw_client_request_by_mask vfs_write
# the same with the file minimised from the kernel's own BTF (step 2)
bind dmarw_prov.0
dmarw --btf "$MIN" run --grace 0.3 --json-report "$R" -- bash -c ". $L;
	client request 0 mask; unbind dmarw_prov.0; client release 0"
check_eq unbind-min-btf-exit "$rc" 3
check_report unbind-min-btf-same-findings "$PAIRS/unbind-own.json" same "$R"
bind dmarw_prov.0

# a channel handed out after the unbind (the provider lets it allocate)
both get-after-unregister "$HBTF" \
	"bind dmarw_prov.0 2>/dev/null; prov_param alloc_after_remove 1" \
	"client request 0 mask; unbind dmarw_prov.0; client request 1 mask;
	client release 1; client release 0"
prov_param alloc_after_remove 0
bind dmarw_prov.0
check_eq get-after-unregister-exit "$rc" 3
check_report get-after-unregister-found "$R" count get-after-unregister 1 \
	holder.function=dmarw_client_request_by_mask holder.module=dmarw_client

# the leak (pins the provider: last).  The first run's channel stays held,
# so the second leaks the next one: the channel is left out of the comparison
both leak "$HBTF" : "client request 0 mask; client forget 0" -channel
check_eq leak-exit "$rc" 3
check_report leak-own-found "$PAIRS/leak-own.json" count leaked-reference 1 channel=dma0chan0 \
	holder.function=dmarw_client_request_by_mask holder.module=dmarw_client
check_report leak-found "$R" count leaked-reference 1 channel=dma0chan1 \
	holder.function=dmarw_client_request_by_mask holder.module=dmarw_client
check_report leak-only "$R" total 1
check_eq leak-kernel-in-use "$(in_use dma0chan0) $(in_use dma0chan1)" "1 1"

# the snapshot walks the kernel's list through the same types, not sysfs
dmarw --btf "$HBTF" --json -o "$REPORTS/snapshot.json" snapshot
check_fails snapshot-from-bpf grep -q 'BPF not usable' /tmp/run.out
check_match snapshot-lists-device "$(cat "$REPORTS/snapshot.json")" '"dmarw_prov.0"'
btf_show
check_json schema --schema report "$REPORTS"/*.json
finish
