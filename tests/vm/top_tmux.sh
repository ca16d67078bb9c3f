#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dmarefwatch top driven in tmux on a real kernel: a client takes and leaks
# a channel, the controller is unbound while it is held; the screen shows
# the device, the channel's holder and the findings (unregister-with-users);
# Enter shows the holder's stack; 80x24 and a resize; q exits 0 and leaves
# the terminal sane.  Then top --batch from a script.  The capture is kept
# in build/top-capture.txt.
# shellcheck disable=SC2317 # the screen helpers are called through check and wait_for
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
vm_main --timeout 300 -- "$@"

bin=$DMARW_REPO/build/dmarefwatch
d=$(mktemp -d /tmp/top.XXXXXX)
export TERM=xterm-256color
T="tmux -L dmarw"

screen() { $T capture-pane -p -t top; }
on_screen() { screen | grep -qE -- "$1"; }
selected() { screen | grep -E '^>' | head -1; }
# press KEY until the selected line matches ERE (at most 25 times)
select_line() {
	for _ in $(seq 25); do
		selected | grep -qE -- "$2" && return 0
		$T send-keys -t top "$1"
		sleep 0.3
	done
	return 1
}

prov_load nchan=2 || { fail load "insmod dmarw_prov"; finish; }
client_load || { fail load "insmod dmarw_client"; finish; }

$T -f /dev/null new-session -d -s top -x 80 -y 24 \
	"cd $d; $bin top --interval 1 --min-age 3 2>top.err; rc=\$?; stty -a >stty.txt; echo \$rc >top.rc; sleep 600"
check top-starts wait_for 90 on_screen 'dmarefwatch top'
check device-row wait_for 10 on_screen 'dma0 +dmarw_prov.0 +dmarw_prov +registered +[0-9?]+ +yes'

check_eq request "$(client_chan request 0 mask)" dma0chan0
check forget client forget 0
check channel-row wait_for 10 on_screen 'dma0chan0 +clients 1'
check holder-row wait_for 10 on_screen 'bash\[[0-9]+\] +dmarw_client_request_by_mask \[dmarw_client\] +age'
check long-held-shown wait_for 15 on_screen 'long-held'
check long-held-finding wait_for 10 on_screen 'info +long-held-reference +dma0chan0'
check_fails no-leak-by-age on_screen 'LEAKED'

check unbind unbind dmarw_prov.0
check unregister-with-users wait_for 15 on_screen 'error +unregister-with-users +dma0'
check state-unregistered wait_for 10 on_screen 'dma0 +dmarw_prov.0 +dmarw_prov +unregistered'
check status-line on_screen 'events [0-9]+ +lost 0 +fentry'
screen >"$d/capture.txt"
cp "$d/capture.txt" "$DMARW_REPO/build/top-capture.txt" 2>/dev/null
echo "# tmux capture of top (80x24):"
sed 's/^/#   /' "$d/capture.txt"
check_eq lines-80x24 "$(wc -l <"$d/capture.txt")" 24

# Enter on the holder shows its stack
check select-holder select_line j 'dmarw_client_request_by_mask'
$T send-keys -t top Enter
check stack-shown wait_for 5 on_screen 'dma_chan_get\+0x[0-9a-f]+'
check stack-client-frame wait_for 5 on_screen 'dmarw_client_request_by_mask\+0x[0-9a-f]+ \[dmarw_client\]'
screen | sed 's/^/#   /'
$T send-keys -t top Enter
check stack-hidden wait_for 5 sh -c "! $T capture-pane -p -t top | grep -q 'dma_chan_get+0x'"

# filter, sort, pause
$T send-keys -t top / n o s u c h Enter
check filter-hides wait_for 5 on_screen 'no device matches the filter'
$T send-keys -t top Escape
check filter-cleared wait_for 5 on_screen 'dma0 +dmarw_prov.0'
$T send-keys -t top s
check sort-clients wait_for 5 on_screen 'sort clients'
$T send-keys -t top p
check paused wait_for 5 on_screen 'PAUSED'
$T send-keys -t top p

# resize to 100x30 and back to 80x24
$T resize-window -t top -x 100 -y 30 2>/dev/null || $T resize-pane -t top -x 100 -y 30
check resize-bigger wait_for 5 sh -c "$T capture-pane -p -t top | sed -n 29p | grep -q 'events'"
$T resize-window -t top -x 80 -y 24 2>/dev/null || $T resize-pane -t top -x 80 -y 24
check resize-back wait_for 5 sh -c "$T capture-pane -p -t top | sed -n 23p | grep -q 'events'"

# the forgotten reference's module goes: a leak at once, in the findings pane
check client-unload client_unload
check leak-finding wait_for 15 on_screen 'error +leaked-reference +dma0chan0'
screen | grep -E 'leaked-reference' | sed 's/^/#   /'
check client-reload client_load

# NO colour attributes when NO_COLOR is set is checked by the batch below;
# q quits with 0 and the terminal is sane again
$T send-keys -t top q
check quit wait_for 10 test -s "$d/top.rc"
check_eq exit-0 "$(cat "$d/top.rc" 2>/dev/null)" 0
check_match tty-sane "$(cat "$d/stty.txt")" '(^| )icanon .*( |^)echo '
check_fails tty-not-raw grep -qE -- '-icanon|-echo( |$)' "$d/stty.txt"
$T kill-server 2>/dev/null

# batch: frames on a pipe (not a tty), a holder that appears while it runs
check rebind bind dmarw_prov.0
NO_COLOR=1 "$bin" top --batch 3 --interval 2 >"$d/batch.txt" 2>"$d/batch.err" &
bpid=$!
wait_for 90 test -s "$d/batch.txt"
client request 1 mask >/dev/null
wait $bpid
check_eq batch-exit-0 "$?" 0
check_eq batch-frames "$(grep -c '^dmarefwatch top' "$d/batch.txt")" 3
check_match batch-holder "$(cat "$d/batch.txt")" 'bash\[[0-9]+\] +dmarw_client_request_by_mask \[dmarw_client\]'
check_match batch-findings "$(cat "$d/batch.txt")" '-- findings: [0-9]+'
check_fails batch-no-escapes grep -q $'\e' "$d/batch.txt"
tail -12 "$d/batch.txt" | sed 's/^/#   /'
# SIGTERM ends an unlimited batch with 0
"$bin" top --interval 1 >/dev/null 2>&1 &
bpid=$!
sleep 8
kill -TERM $bpid
wait $bpid
check_eq batch-sigterm-exit-0 "$?" 0
client release 1 >/dev/null
check_fails no-warning dmesg_has 'WARNING:|BUG:'
finish
