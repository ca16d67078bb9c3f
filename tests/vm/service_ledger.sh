#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# One ledger per machine (issue 16): `watch --service` pins its reference
# ledger and state in bpffs; a client takes a channel while it runs, and
# `top --batch 1` and `snapshot --json`, started later, name the holder's
# function, module and age from the service's ledger (their own sessions
# could not: the reference predates them).  The directory is root's only:
# another user gets a one-line error and exit 2.  A second service is
# refused.  SIGKILL of the service leaves no program or link attached;
# readers then see the state as stale and trace by themselves; the next
# service start removes the stale pins, and a clean stop removes its own.
. "$(dirname "$0")/lib.sh"
vm_main --timeout 600 -- "$@"

bin=$DMARW_REPO/build/dmarefwatch
dir=/sys/fs/bpf/dmarefwatch
d=$(mktemp -d /tmp/service.XXXXXX)
prog_ids() { bpftool prog show | sed -n 's/^\([0-9]*\): .*/\1/p' | sort -n; }
link_ids() { bpftool link show | sed -n 's/^\([0-9]*\): .*/\1/p' | sort -n; }
t() { local up; read -r up _ </proc/uptime; echo "# t=${up}s: $*"; }
# shellcheck disable=SC2317 # called through wait_for
owner_pinned() { [ -e "$dir/owner" ]; }
# owner_pid: the pid in the owner record (struct dmarw_pin_owner: magic,
# version, pid, ... little-endian u32s; the map has no BTF: bytes)
owner_pid() {
	bpftool -j map dump pinned "$dir/owner" 2>/dev/null | python3 -c '
import json, sys
v = json.load(sys.stdin)[0]["value"]
print(int.from_bytes(bytes(int(x, 16) for x in v[8:12]), "little"))'
}
progs0=$(prog_ids) links0=$(link_ids)

prov_load nchan=4 || { fail load "insmod dmarw_prov"; finish; }
client_load || { fail load "insmod dmarw_client"; finish; }

# ---- the service --------------------------------------------------------------
t "watch --service"
"$bin" watch --service --interval 1 -o "$d/watch.out" 2>"$d/watch.err" &
wpid=$!
check pinned wait_for 120 owner_pinned
check_eq pin-files "$(find "$dir" -mindepth 1 -printf '%f\n' | sort | tr '\n' ' ')" "chan_state dev_state gone hook_stats ledger owner "
check_eq pin-dir-root-only "$(stat -c '%a %U' "$dir")" "700 root"
check_eq pin-files-root-only "$(stat -c '%a' "$dir"/* | sort -u)" 600
check_eq owner-is-service "$(owner_pid)" "$wpid"

# ---- a client takes a channel; readers started later name the holder ---------
t "a client takes a channel"
check_eq take "$(client_chan request 0 mask)" dma0chan0
sleep 2
t "top --batch 1"
"$bin" top --batch 1 -o "$d/top.txt" 2>"$d/top.err"
check_eq top-exit $? 0
sed 's/^/#   /' "$d/top.txt"
check_match top-says-service "$(cat "$d/top.err")" "holders from the running service pid $wpid"
check_match top-status-service "$(cat "$d/top.txt")" "service pid $wpid, since"
check_match top-names-holder "$(grep -A3 dma0chan0 "$d/top.txt")" 'dmarw_client_request_by_mask'
check_match top-names-module "$(grep -A3 dma0chan0 "$d/top.txt")" '\[dmarw_client\]'
check_fails top-no-predating grep -q 'predating' "$d/top.txt"

t "snapshot --json"
"$bin" --json snapshot >"$d/snap.json" 2>"$d/snap.err"
check_eq snapshot-exit $? 0
check_json snapshot-schema "$d/snap.json"
holder=$(report_holders "$d/snap.json")
printf '%s\n' "$holder" | sed 's/^/#   /'
check_match snapshot-names-holder "$holder" '^dma0chan0 dmarw_client_request_by_mask dmarw_client [^ ]+ True True 0$'
check_match snapshot-holders-from "$holder" "^from: service pid $wpid, since "
"$bin" snapshot >"$d/snap.txt" 2>&1
check_match snapshot-text-holder "$(cat "$d/snap.txt")" \
	'held by pid [0-9]+ \(.*\) in dmarw_client_request_by_mask \[dmarw_client\], 1 reference, age [0-9.]+s'

# ---- trace starts with the service's holders ----------------------------------
# the reference predates trace: without the service it would be "predating
# tracing" and its loss at the unload no leak of anyone's
t "trace: the unload of a holder that predates it"
# stdout, not -o: -o FILE appears only when trace ends
"$bin" trace --duration 120 >"$d/trace.txt" 2>"$d/trace.err" &
tpid=$!
check trace-started wait_for 90 grep -q 'taken before tracing named from the running' "$d/trace.err"
check_match trace-adopted "$(cat "$d/trace.err")" \
	"1 reference taken before tracing named from the running service pid $wpid, since"
check trace-forget client forget 0
check trace-unload client_unload
check trace-leak wait_for 60 grep -q 'leaked-reference' "$d/trace.txt"
kill -TERM "$tpid"	# an async command of a script ignores SIGINT
wait "$tpid"
check_eq trace-exit $? 0
grep -A6 'leaked-reference' "$d/trace.txt" | sed 's/^/#   /'
check_match trace-leak-names-holder "$(grep -A6 'leaked-reference' "$d/trace.txt")" \
	'dmarw_client_request_by_mask'

# ---- the service's verdict reaches its readers ---------------------------------
# the module's unload was seen by the service only: its "gone" map says so,
# with the holder's names from when the module was loaded
t "readers see the service's leak"
# shellcheck disable=SC2317 # called through wait_for
gone_written() { [ "$(bpftool -j map dump pinned "$dir/gone" 2>/dev/null | grep -o '"key"' | wc -l)" = 1 ]; }
check gone-map-written wait_for 30 gone_written
"$bin" top --batch 1 -o "$d/top3.txt" 2>/dev/null
sed 's/^/#   /' "$d/top3.txt"
check_match top-shows-service-leak "$(cat "$d/top3.txt")" \
	'error +leaked-reference +dma0chan0 .*dmarw_client_request_by_mask \[dmarw_client\]'
"$bin" --json snapshot >"$d/snap3.json" 2>/dev/null
check_eq snapshot-leak-exit $? 1
check_report snapshot-leak-names-holder "$d/snap3.json" count leaked-reference 1 channel=dma0chan0 \
	holder.function=dmarw_client_request_by_mask holder.module=dmarw_client

# ---- another user: one line, exit 2 ------------------------------------------
t "another user"
setpriv --reuid=65534 --regid=65534 --clear-groups "$bin" top --batch 1 >"$d/nobody.out" 2>"$d/nobody.err"
check_eq nobody-exit $? 2
check_eq nobody-one-line "$(wc -l <"$d/nobody.err")" 1
check_match nobody-says-why "$(cat "$d/nobody.err")" "root's only"
setpriv --reuid=65534 --regid=65534 --clear-groups "$bin" snapshot >/dev/null 2>"$d/nobody2.err"
check_eq nobody-snapshot-exit $? 2

# ---- one service per machine -------------------------------------------------
t "a second service"
"$bin" watch --service --duration 5 >"$d/second.out" 2>"$d/second.err"
check_eq second-refused $? 2
check_match second-says-owner "$(tail -n1 "$d/second.err")" "another dmarefwatch service \\(pid $wpid\\) owns $dir"
check_eq first-still-owner "$(owner_pid)" "$wpid"

# ---- SIGKILL: nothing attached, stale pins ignored, then cleaned ---------------
t "SIGKILL"
kill -KILL "$wpid"
wait "$wpid" 2>/dev/null
check_eq killed-no-prog-left "$(comm -13 <(echo "$progs0") <(prog_ids) | tr '\n' ' ')" ""
check_eq killed-no-link-left "$(comm -13 <(echo "$links0") <(link_ids) | tr '\n' ' ')" ""
check stale-pins-remain test -e "$dir/owner"
"$bin" top --batch 1 -o "$d/top2.txt" 2>"$d/top2.err"
check_eq stale-top-exit $? 0
check_match stale-top-says-why "$(cat "$d/top2.err")" "own session: the service state in $dir is stale \\(its owner, pid $wpid, is gone\\)"
check_match stale-top-status "$(cat "$d/top2.txt")" 'own session'
check stale-left-by-reader test -e "$dir/owner"

t "the next start cleans"
"$bin" watch --service --interval 1 -o "$d/watch2.out" 2>"$d/watch2.err" &
wpid2=$!
# shellcheck disable=SC2317 # called through wait_for
owner_is() { [ "$(owner_pid)" = "$1" ]; }
check restart-pinned wait_for 120 owner_is "$wpid2"
check_match restart-removed-stale "$(cat "$d/watch2.err")" "removed the stale service state in $dir: its owner, pid $wpid, is gone"
kill -TERM "$wpid2"
wait "$wpid2"
check_eq clean-stop-exit $? 0
check_fails clean-stop-removes-dir test -e "$dir"
check_eq stopped-no-prog-left "$(comm -13 <(echo "$progs0") <(prog_ids) | tr '\n' ' ')" ""
check_fails no-warning dmesg_has 'WARNING:|BUG:'
finish
