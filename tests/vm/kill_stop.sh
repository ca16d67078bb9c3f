#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# SIGKILL of run, watch, record and top during a request/release storm
# leaves no BPF program or link (bpftool prog/link show before and after)
# and the kernel's counts untouched; a watch stopped with SIGSTOP for 30 s
# during a storm resumes and ends cleanly.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
vm_main --timeout 900 -- "$@"

B=$DMARW_REPO/build/dmarefwatch
nprogs() { bpftool prog show 2>/dev/null | grep -cE '^[0-9]+:'; }
nlinks() { bpftool link show 2>/dev/null | grep -cE '^[0-9]+:'; }

# attached BEFORE: wait (60 s at most) until there are more programs than BEFORE
attached() {

	for _ in $(seq 120); do
		[ "$(nprogs)" -gt "$1" ] && return 0
		sleep 0.5
	done
	return 1
}

# detached PROGS LINKS: wait (20 s at most) until the counts are back
detached() {

	for _ in $(seq 40); do
		[ "$(nprogs)" -eq "$1" ] && [ "$(nlinks)" -eq "$2" ] && return 0
		sleep 0.5
	done
	return 1
}

if ! prov_load nchan=4 || ! client_load; then
	fail load "cannot load the test modules"
	finish
fi
p0=$(nprogs)
l0=$(nlinks)
echo "before: $p0 programs, $l0 links"

for cmd in run watch record top; do
	case $cmd in
	run) "$B" run --grace 0 -- sleep 600 >/tmp/kill.out 2>&1 & ;;
	watch) "$B" watch >/tmp/kill.out 2>&1 & ;;
	record) "$B" -o /tmp/kill.trace record >/tmp/kill.out 2>&1 & ;;
	top) "$B" -o /tmp/kill.top top --batch 0 >/tmp/kill.out 2>&1 & ;;
	esac
	pid=$!
	if ! attached "$p0" "$l0"; then
		fail "$cmd-attach" "no link attached in 90 s: $(head -3 /tmp/kill.out)"
		kill -9 "$pid" 2>/dev/null
		wait "$pid"
		continue
	fi
	client loop 400 2 >/dev/null &
	storm=$!
	sleep 2
	echo "$cmd attached: $(nprogs) programs, $(nlinks) links; SIGKILL"
	kill -9 "$pid"
	wait "$pid"
	wait "$storm"
	if detached "$p0" "$l0"; then
		pass "$cmd-kill-leaves-nothing"
	else
		fail "$cmd-kill-leaves-nothing" "after: $(nprogs) programs, $(nlinks) links, before $p0, $l0"
	fi
	for c in 0 1 2 3; do
		check_eq "$cmd-kill-count-dma0chan$c" "$(in_use dma0chan$c)" 0
	done
done

# SIGSTOP for 30 s during a storm: watch resumes and stops cleanly
"$B" -v watch >/tmp/stop.out 2>&1 &
pid=$!
# -v: "watching: ..." once every hook is attached
for _ in $(seq 180); do
	grep -q 'watching:' /tmp/stop.out && break
	sleep 0.5
done
if grep -q 'watching:' /tmp/stop.out; then
	client loop 2000 2 >/dev/null &
	storm=$!
	sleep 1
	kill -STOP "$pid"
	sleep 30
	kill -CONT "$pid"
	wait "$storm"
	# a balanced storm sends no record (its holders are in the ledger):
	# dmaengine_get/put always do, so the resumed watch has some to read
	client get >/dev/null
	client put >/dev/null
	sleep 2
	kill -INT "$pid"
	wait "$pid"
	rc=$?
	check_eq stop-watch-exit "$rc" 0
	# the final line: "... N events, N lost"; the events of the stop were seen
	final=$(grep 'final report' /tmp/stop.out)
	echo "watch after SIGSTOP: $final"
	events=$(echo "$final" | sed -n 's/.* \([0-9][0-9]*\) events, \([0-9][0-9]*\) lost.*/\1/p')
	if [ "${events:-0}" -gt 0 ]; then
		pass stop-watch-saw-events
	else
		fail stop-watch-saw-events "no event counted: $final"
	fi
	for c in 0 1 2 3; do
		check_eq "stop-count-dma0chan$c" "$(in_use dma0chan$c)" 0
	done
	# its final counts are the kernel's, whatever it lost while stopped
	inuse=$(echo "$final" | sed -n 's/.* \([0-9][0-9]*\) channels\{0,1\} in use.*/\1/p')
	kin=0
	for c in 0 1 2 3; do [ "$(in_use dma0chan$c)" = 0 ] || kin=$((kin + 1)); done
	check_eq stop-final-counts-equal-kernel "${inuse:-none}" "$kin"
	if detached "$p0" "$l0"; then
		pass stop-watch-detached
	else
		fail stop-watch-detached "after: $(nprogs) programs, $(nlinks) links"
	fi
else
	fail stop-attach "watch did not start in 90 s: $(head -3 /tmp/stop.out)"
	kill -9 "$pid"
fi
finish
