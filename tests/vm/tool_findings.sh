#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# dmarefwatch against a real kernel, once per attach mode: every finding
# kind the 6.1 kernel can produce with our provider and client, caught with
# the right holder function and module; clean workloads give no finding.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# One boot per attach mode: the leaks pin the provider module for good.
if [ -z "${DMARW_IN_VM:-}" ]; then
	st=0
	for m in ${DMARW_MODES:-fentry kprobe}; do
		(DMARW_MODE=$m vm_main --timeout 900 --env DMARW_MODE="$m" \
			--expect-splat 'chan reference count' \
		--expect-splat "kernfs: can not remove 'slave'" -- "$@") || st=1
	done
	exit $st
fi

B=$DMARW_REPO/build/dmarefwatch
R=/tmp/report.json
L=$DMARW_TESTS_DIR/lib.sh

# dmarw MODE ARGS... -- SCRIPT: run the tool with a bash script as CMD;
# sets $rc
dmarw() {
	local mode=$1
	shift
	rm -f "$R"
	"$B" --mode "$mode" run --grace 0.3 --json-report "$R" "$@" >/tmp/run.out 2>&1
	rc=$?
	# every report is validated against docs/schema at the end, in one call
	local n
	nrun=$((nrun + 1))
	printf -v n '%02d' "$nrun"
	cp "$R" "$REPORTS/run-$n.json" 2>/dev/null
}
nrun=0
REPORTS=$(mktemp -d /tmp/reports.XXXXXX)


mode=${DMARW_MODE:?}
DMARW_TEST=tool_findings/$mode
{ prov_load nchan=4 && client_load; } || { fail load "cannot load the test modules"; finish; }

# clean: requests by mask and name, a copy, releases, dmaengine_get/put
dmarw "$mode" -- bash -c ". $L; client request 0 mask; client request 1 name tx;
	client request 2 name rx; client memcpy 0 4096; client release 0;
	client release 1; client release 2; client get; client put"
check_eq clean-exit "$rc" 0
check_report clean-no-finding "$R" total 0
check_report clean-hook-mode "$R" hook dma_chan_get "$mode"
check_report clean-final-count "$R" channel dma0chan0 client_count 0

# start-up: the kernel named our BPF images on the CPU the loading thread
# was pinned to, and the command (forked after) has our CPUs back
mask=$(taskset -pc $$ | sed 's/.*: //')
"$B" -v --mode "$mode" run --grace 0 -- sh -c 'taskset -pc $$' >/tmp/startup.out 2>&1
check_eq startup-exit "$?" 0
check_match startup-images-named "$(grep 'start-up: BPF image names' /tmp/startup.out)" \
	'BPF image names +[0-9]+ ms'
check_fails startup-images-not-from-kallsyms grep -q 'BPF image names from kallsyms' /tmp/startup.out
check_match startup-cpus-given-back "$(grep 'current affinity list' /tmp/startup.out)" ": $mask\$"

# request/release loops in kernel threads on both CPUs: clean, exact counts
dmarw "$mode" -- bash -c ". $L; client loop 2000 2"
check_eq loop-exit "$rc" 0
check_report loop-no-finding "$R" total 0
for c in 0 1 2 3; do
	check_report loop-count-dma0chan$c "$R" channel dma0chan$c client_count "$(in_use dma0chan$c)"
done

# double release: the kernel only warns (once per boot)
dmarw "$mode" -- bash -c ". $L; client request 2 mask; client release-twice 2"
check_eq double-release-exit "$rc" 3
check_report double-release-found "$R" count unbalanced-put 1 channel=dma0chan0 \
	holder.function=dmarw_client_release_twice holder.module=dmarw_client
check_report double-release-only "$R" total 1

# a failing channel allocation is information, not a failure
prov_param fail_alloc 1
dmarw "$mode" -- bash -c ". $L; client request 0 mask; true"
prov_param fail_alloc 0
check_eq get-failed-exit "$rc" 0
check_report get-failed-found "$R" count get-failed 1 severity=info

# unbind with a channel held, the client releases afterwards
dmarw "$mode" -- bash -c ". $L; client request 0 mask; unbind dmarw_prov.0;
	client release 0"
check_eq unbind-exit "$rc" 3
check_report unbind-found "$R" count unregister-with-users 1 channel=dma0chan0 \
	holder.function=dmarw_client_request_by_mask holder.module=dmarw_client
check_report unbind-release-is-not-use-after "$R" count release-with-users 0
check_report unbind-only "$R" total 1
check_report unbind-stack "$R" stack unregister-with-users dma_chan_get __dma_request_channel \
	dmarw_client_request_by_mask vfs_write

# the same by name: dma_request_chan() through the provider's slave map
# (the kernel warns when the release removes the channel's "slave" link
# from the unregistered device's sysfs directory: 5.10 and 6.1 do)
bind dmarw_prov.0
dmarw "$mode" -- bash -c ". $L; client request 1 name tx; unbind dmarw_prov.0;
	client release 1"
check_eq unbind-name-exit "$rc" 3
check_report unbind-name-found "$R" count unregister-with-users 1 \
	holder.function=dmarw_client_request_by_name holder.module=dmarw_client
check_report unbind-name-stack "$R" stack unregister-with-users dma_chan_get dma_request_chan \
	dmarw_client_request_by_name vfs_write
# dma_request_chan() named its client: the device (bound to no driver) and "tx"
check_report unbind-name-client "$R" count unregister-with-users 1 holder.client=dmarw_client:tx \
	holder.client_driver=

# a channel handed out after the unbind (the provider lets it allocate)
bind dmarw_prov.0
prov_param alloc_after_remove 1
dmarw "$mode" -- bash -c ". $L; client request 0 mask; unbind dmarw_prov.0;
	client request 1 mask; client release 1; client release 0"
prov_param alloc_after_remove 0
check_eq get-after-unregister-exit "$rc" 3
check_report get-after-unregister-found "$R" count get-after-unregister 1 \
	holder.function=dmarw_client_request_by_mask holder.module=dmarw_client

# unbind with a channel held and not released before the end: pending
bind dmarw_prov.0
dmarw "$mode" -- bash -c ". $L; client request 0 mask; unbind dmarw_prov.0"
check_eq pending-exit "$rc" 3
check_report pending-unregister "$R" count unregister-with-users 1
check_report pending-release "$R" count release-pending 1 severity=warning
check_report pending-leak "$R" count leaked-reference 1
# the client lets go of it later, under a run that started after the unbind:
# the kernel no longer lists the device, the channel is still in use
dmarw "$mode" -- bash -c ". $L; client release 0"
check_eq unlisted-exit "$rc" 3
check_report unlisted-unregister-with-users "$R" count unregister-with-users 1 device=dma0 \
	holder.module=dmarw_client
check_report unlisted-only-finding "$R" total 1
"$DMARW_TESTS_DIR/findings.py" "$R" evidence unlisted 2>/dev/null
bind dmarw_prov.0

# a driver without device_release: a warning, failing only at --fail-on warning
check unload-client client_unload
check unload-prov prov_unload
dmarw "$mode" -- bash -c ". $L; prov_load nchan=1 no_release=1"
check_eq no-release-exit "$rc" 0
check_report no-release-found "$R" count missing-release-callback 1 severity=warning device=dma0
dmarw "$mode" --fail-on warning -- bash -c "rmmod dmarw_prov"
check_eq no-release-found-at-startup-fails "$rc" 3
check_report no-release-at-startup "$R" count missing-release-callback 1
prov_load nchan=4 && client_load

# the leak: run exits 3 and names the channel, function and module
# (from here on the provider stays pinned by the leaks)
dmarw "$mode" -- bash -c ". $L; client request 0 mask; client forget 0"
check_eq leak-exit "$rc" 3
check_report leak-found "$R" count leaked-reference 1 channel=dma0chan0 \
	holder.function=dmarw_client_request_by_mask holder.module=dmarw_client
check_report leak-holder-alive "$R" count leaked-reference 1 channel=dma0chan0 \
	"evidence~the holder is alive: module dmarw_client not unloaded"
check_report leak-only "$R" total 1
check_report leak-stack "$R" stack leaked-reference dma_chan_get __dma_request_channel \
	dmarw_client_request_by_mask vfs_write
check_eq leak-kernel-in-use "$(in_use dma0chan0)" 1

# a reference taken before tracing is neither a leak nor unbalanced
dmarw "$mode" -- bash -c ". $L; client request 1 mask; client release 1"
check_eq predating-exit "$rc" 0
check_report predating-no-finding "$R" total 0
check_report predating-counted "$R" channel dma0chan0 predating 1

# leak from an error path
dmarw "$mode" -- bash -c ". $L; client errpath 1"
check_eq errpath-exit "$rc" 3
check_report errpath-found "$R" count leaked-reference 1 channel=dma0chan1 \
	holder.function=dmarw_client_setup_errpath holder.module=dmarw_client

# the leaking module is gone by the end, at once: its names come from its
# own symbol table, sent in band by the BPF program on module_load, not
# from kallsyms (read when /proc/modules changes: too late for a module
# this short-lived: a CI run on 5.10 named its caller instead, even with
# a 3 s sleep before the request)
client_unload
dmarw "$mode" -- bash -c ". $L; client_load; client request 3 mask;
	client forget 3; client_unload"
check_eq unloaded-exit "$rc" 3
check_report unloaded-names-module "$R" count leaked-reference 1 channel=dma0chan2 \
	holder.function=dmarw_client_request_by_mask holder.module=dmarw_client
check_report unloaded-holder-gone "$R" count leaked-reference 1 channel=dma0chan2 \
	"evidence~module dmarw_client was unloaded" "evidence~the holder is gone"

# a leak from the module's init: .init.text is never in kallsyms after
# init, so only the in-band table can name the caller
dmarw "$mode" -v -- bash -c ". $L; client_load leak_at_init=1; client_unload"
check_eq init-leak-exit "$rc" 3
# every defined function of the .ko's symbol table came in band (the walk
# without bpf_loop() takes 64 entries per tail call: this table has ~140)
nfunc=$(readelf -sW "$(kmod dmarw_client)" | awk '$4 == "FUNC" && $7 != "UND"' | wc -l)
check_match init-leak-table-read "$(grep 'module dmarw_client loaded' /tmp/run.out)" \
	"dmarw_client loaded: $nfunc functions from its symbol table \\(whole table\\)"

check_report init-leak-names-module "$R" count leaked-reference 1 channel=dma0chan3 \
	holder.function=dmarw_client_request_by_mask holder.module=dmarw_client
check_report init-leak-init-frame "$R" stack leaked-reference dma_chan_get \
	dmarw_client_request_by_mask dmarw_client_init_leak do_one_initcall
check_json schema --schema report "$REPORTS"/*.json
finish
