#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# watch --prometheus on a real kernel: a leaked channel is counted, the
# metrics file passes promtool and equals the kernel's in_use, it is never
# seen half-written (a reader loops over it the whole time), and watch
# survives thousands of request/release cycles, an unbind with a channel
# held, a rebind, module unloads and SIGHUP; SIGTERM gives a final report
# and exit 0.  RSS is printed at the start and the end.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
vm_main --timeout 420 -- "$@"

d=$(mktemp -d /tmp/watch.XXXXXX)
prom=$d/dmarefwatch.prom
log=$d/watch.log
bin=$DMARW_REPO/build/dmarefwatch

# prom_val NAME LABELS: the value of one series, "none" if absent
prom_val() { grep -F "$1{$2} " "$prom" | awk '{print $2}' | grep . || echo none; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo gone; }
# every channel in sysfs: the metric equals in_use
check_in_use_equal() {
	local c name bad=
	for c in /sys/class/dma/*/in_use; do
		[ -e "$c" ] || continue
		name=$(basename "$(dirname "$c")")
		v=$(prom_val dmarefwatch_channel_clients "channel=\"$name\",device=\"${name%chan*}\"")
		[ "$v" = "$(cat "$c")" ] || bad="$bad $name:metric=$v,in_use=$(cat "$c")"
	done
	check_eq "$1" "${bad# }" ""
}
# the metrics file after the next write (it is rewritten every interval)
next_write() {
	local m
	m=$(stat -c %Y.%s "$prom" 2>/dev/null)
	wait_for 10 test "$(stat -c %Y.%s "$prom" 2>/dev/null)" != "$m"
	sleep 1.2
}

prov_load nchan=4 || { fail load "insmod dmarw_prov"; finish; }
client_load || { fail load "insmod dmarw_client"; finish; }

"$bin" watch --interval 1 --min-age 2 --prometheus "$prom" -o "$log" 2>"$d/watch.err" &
wpid=$!
check started wait_for 90 test -s "$prom"
check_eq alive-at-start "$(kill -0 $wpid 2>/dev/null && echo yes)" yes
rss_start=$(rss $wpid)

# a reader that must never see a partial file
(
	reads=0 bad=0
	while [ ! -e "$d/stop-reader" ]; do
		c=$(cat "$prom")
		reads=$((reads + 1))
		case $c in
		"# HELP dmarefwatch_build_info"*"dmarefwatch_holders "[0-9]*) ;;
		*) bad=$((bad + 1)); printf '%s\n' "$c" >"$d/bad-read.$bad" ;;
		esac
	done
	echo "$reads $bad" >"$d/reader"
) &

# one channel forgotten (its module still loaded: long-held past --min-age,
# not an error until the module goes), one held and released later
check_eq leak-request "$(client_chan request 0 mask)" dma0chan0
check leak-forget client forget 0
check_eq held-request "$(client_chan request 1 mask)" dma0chan1
check long-held-counted wait_for 20 grep -qF \
	'dmarefwatch_channel_long_held_references{channel="dma0chan0",device="dma0"} 1' "$prom"
next_write
check promtool-held promtool check metrics <"$prom"
check_in_use_equal in-use-equal-held
check_eq leak-clients "$(prom_val dmarefwatch_channel_clients 'channel="dma0chan0",device="dma0"')" 1
check_eq not-leaked-while-loaded \
	"$(prom_val dmarefwatch_channel_leaked_references 'channel="dma0chan0",device="dma0"')" 0
check_eq long-held-log-names-holder "$(grep -c 'info: long-held-reference: dma0chan0' "$log")" 1
check_match long-held-log-function "$(grep -A1 'long-held-reference: dma0chan0' "$log")" \
	'dmarw_client_request_by_mask \[dmarw_client\]'
nlong=$(grep -c 'info: long-held-reference:' "$log")
check_eq findings-equal-log \
	"$(prom_val dmarefwatch_findings_total 'kind="long-held-reference",severity="info"')" "$nlong"
check_eq no-leak-by-age "$(grep -c 'error: leaked-reference:' "$log")" 0
check_eq kref "$(prom_val dmarefwatch_device_kref 'device="dma0",dev_name="dmarw_prov.0",driver="dmarw_prov"')" 3
check release-held client release 1

# thousands of request/release cycles in kernel threads on both CPUs
ncpu=$(nproc)
check_eq loop "$(client loop 3000 "$ncpu")" "ok loop $((3000 * ncpu)) 0"
next_write
# RSS once the ring buffer and the tables are warm, against the end
rss_warm=$(rss $wpid)
check_in_use_equal in-use-equal-after-loop
check_eq loop-gets-counted "$(awk '/^dmarefwatch_hook_events_total\{hook="dma_chan_get"\}/ {print ($2 >= 6000)}' "$prom")" 1
lost=$(prom_val dmarefwatch_events_lost_total '')
[ "$lost" = none ] && lost=$(awk '/^dmarefwatch_events_lost_total / {print $2}' "$prom")
echo "# events lost during the loop: $lost"
check promtool-after-loop promtool check metrics <"$prom"

# SIGHUP reopens the log (logrotate)
mv "$log" "$log.1"
kill -HUP $wpid
check hup-reopens wait_for 10 test -s "$log"

# unbind the controller while dma0chan0 is still held (forgotten)
check unbind unbind dmarw_prov.0
check unregister-with-users-counted wait_for 15 grep -qF \
	'dmarefwatch_findings_total{kind="unregister-with-users",severity="error"} 1' "$prom"
check_match unregister-log "$(cat "$log")" 'error: unregister-with-users: dma0'
check_eq alive-after-unbind "$(kill -0 $wpid 2>/dev/null && echo yes)" yes
# module unload and reload, a rebind (dma0 again: the dev_id is reused);
# the forgotten reference's module is gone: now it is leaked
check client-unload client_unload
check leak-at-unload wait_for 10 grep -q 'error: leaked-reference: dma0chan0' "$log"
check_match leak-log-function "$(grep -A1 'leaked-reference: dma0chan0' "$log")" \
	'dmarw_client_request_by_mask \[dmarw_client\]'
check leak-counted wait_for 10 grep -qF \
	'dmarefwatch_findings_total{kind="leaked-reference",severity="error"} 1' "$prom"
check rebind bind dmarw_prov.0
check client-reload client_load
# shellcheck disable=SC2012 # channel names are plain words
check_eq rebind-request "$(client_chan request 2 mask)" "$(ls /sys/class/dma | head -1)"
next_write
check promtool-after-rebind promtool check metrics <"$prom"
# the provider frees its channels at unbind and the rebound device may get
# the same addresses: only the channel used since is compared here
check_eq in-use-equal-after-rebind \
	"$(prom_val dmarefwatch_channel_clients 'channel="dma0chan0",device="dma0"')" "$(in_use dma0chan0)"
check_eq loop-2 "$(client loop 3000 "$ncpu")" "ok loop $((3000 * ncpu)) 0"
check client-unload-2 client_unload
next_write
check_eq in-use-equal-after-unload \
	"$(prom_val dmarefwatch_channel_clients 'channel="dma0chan0",device="dma0"')" "$(in_use dma0chan0)"
check_eq alive-at-end "$(kill -0 $wpid 2>/dev/null && echo yes)" yes
rss_end=$(rss $wpid)
echo "# watch RSS: start ${rss_start} kB, after 6000 cycles ${rss_warm} kB, end (12000 cycles, unbind, rebind, unloads) ${rss_end} kB"
check_eq rss-flat "$(awk -v a="$rss_warm" -v b="$rss_end" 'BEGIN {print (b - a < 1024)}')" 1

kill -TERM $wpid
wait $wpid
check_eq sigterm-exit-0 "$?" 0
check_match final-report "$(tail -20 "$log")" 'final report: [0-9]+ leaked reference'
touch "$d/stop-reader"
wait_for 10 test -s "$d/reader"
read -r reads bad <"$d/reader"
echo "# reader: $reads reads of the metrics file, $bad partial"
check_eq never-half-written "$bad" 0
check_eq reader-read "$(awk -v r="$reads" 'BEGIN {print (r > 10)}')" 1
echo "# metrics file (excerpt):"
grep -E '^dmarefwatch_(channel_clients|channel_leaked|findings_total|device_kref|device_state.*} 1)' "$prom" | sed 's/^/#   /'
cp "$prom" "$DMARW_REPO/build/watch-example.prom" 2>/dev/null
check_fails no-warning dmesg_has 'WARNING:|BUG:'
finish
