#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A short version of tools/bench/run as a test: a request/release storm on
# both CPUs under `dmarefwatch run`, and the same under trace.  Timing is not
# asserted (TCG is too noisy for that); what is: the runs complete, the hook
# counts equal the cycles done, every event is either decoded or counted as
# lost (no silent loss), lost events are reported, and the final counts from
# the BPF maps equal the kernel's in_use even when events were lost.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
vm_main --cpus 2 --timeout 600 -- "$@"

B=$DMARW_REPO/build/dmarefwatch
CYCLE=(/bin/bash "$DMARW_REPO/tools/bench/cycle")
N=${BENCH_SMOKE_CYCLES:-20000}
T=/tmp/bench-smoke
mkdir -p $T
prov_load nchan=4 || { fail load "insmod dmarw_prov"; finish; }
client_load || { fail load "insmod dmarw_client"; finish; }

# base, for the log only
"${CYCLE[@]}" "$N" 2 $T/base
echo "# base: $(cat $T/base)"

# jstat FILE EXPR: a value from the JSON report (tests/vm/jstat.py)
jstat() { python3 "$DMARW_TESTS_DIR/jstat.py" "$1" "$2" 2>/dev/null || echo error; }

# storm under run
$B -o $T/run.txt run --grace 0 --json-report $T/r.json -- "${CYCLE[@]}" "$N" 2 $T/run 2>$T/run.err
rc=$?
check_eq run-status "$rc" 0
check_match run-loop "$(cat $T/run 2>/dev/null)" "result=ok_loop_$((N * 2))_0 "
echo "# run: $(cat $T/run 2>/dev/null)"
check_eq kernel-in-use "$(all_in_use)" "dma0chan0=0 dma0chan1=0 dma0chan2=0 dma0chan3=0"
check_eq get-hits "$(jstat $T/r.json 'h["dma_chan_get"]["hits"]')" $((N * 2))
check_eq put-hits "$(jstat $T/r.json 'h["dma_chan_put"]["hits"]')" $((N * 2))
events=$(jstat $T/r.json 's["events"]')
lost=$(jstat $T/r.json 's["events_lost"]')
hits=$(jstat $T/r.json 'sum(x["hits"] for x in s["hooks"])')
echo "# run: events=$events lost=$lost hook hits=$hits"
check_eq no-silent-loss "$((events + lost))" "$hits"
check_eq final-counts-exact "$(jstat $T/r.json 'sum(c["client_count"] for c in d["channels"])')" 0
check_eq no-findings "$(jstat $T/r.json 's["findings"]')" 0
if [ "$lost" -gt 0 ] 2>/dev/null; then
	check_match lost-reported "$(cat $T/run.err)" "$lost events lost"
else
	pass lost-reported
fi

# storm under trace: every event is a line or counted as lost
$B -v trace --json -o $T/trace.json 2>$T/trace.err &
tp=$!
for _ in $(seq 1200); do
	grep -q 'hook dmaengine_put:' $T/trace.err 2>/dev/null && break
	kill -0 $tp 2>/dev/null || break
	sleep 0.05
done
"${CYCLE[@]}" "$N" 2 $T/trace
sleep 0.5
kill -INT $tp
wait $tp
check_eq trace-status $? 0
lines=$(grep -c '"chan-get"\|"chan-put"\|"release-channel"\|"request-chan"' $T/trace.json)
tlost=$(sed -n 's/.*: \([0-9]*\) events lost.*/\1/p' $T/trace.err | tail -1)
echo "# trace: $(cat $T/trace) lines=$lines lost=${tlost:-0}"
check_eq trace-no-silent-loss "$((lines + ${tlost:-0}))" $((N * 2 * 4))

# against docs/schema: the report, and the first 300 trace lines (all of
# them would take minutes under TCG)
head -n 300 $T/trace.json >$T/trace-head.json
check_json schema $T/r.json $T/trace-head.json
check unload-client client_unload
check unload-prov prov_unload
finish
