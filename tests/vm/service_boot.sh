#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The service at boot (issue 16): tools/systemd/dmarefwatch.service, enabled
# as installed (WantedBy=sysinit.target, DefaultDependencies=no,
# Before=systemd-modules-load.service, Type=notify) with this build in
# /usr/local/sbin as `make install` puts it (-v added), and the test modules loaded at boot by systemd-modules-load from
# /etc/modules-load.d (install commands in /etc/modprobe.d: they are not in
# the guest's module tree), dmarw_client's driver taking its "tx" channel at
# probe.  Once booted: the service was ready before systemd-modules-load
# started, and `snapshot --json` and `top --batch 1` name the probe's
# reference (dmarw_client_probe in dmarw_client, its age) from the service's
# ledger; a session of its own (no service) only counts it as taken before
# tracing.
. "$(dirname "$0")/lib.sh"

bin=$DMARW_REPO/build/dmarefwatch
U=dmarefwatch.service

# ---- in the guest, before systemd starts (tools/vm/run --boot-setup) -------
if [ -n "${DMARW_BOOT_PHASE:-}" ]; then
	set -e
	# where `make install` puts it: the checkout may be under /tmp, which
	# the unit's PrivateTmp= hides from the service
	install -D -m 0755 "$bin" /usr/local/sbin/dmarefwatch
	sed "s|^ExecStart=/usr/local/sbin/dmarefwatch |&-v |" \
		"$DMARW_REPO/tools/systemd/$U" >/etc/systemd/system/$U
	grep -q "^ExecStart=/usr/local/sbin/dmarefwatch -v watch --service " /etc/systemd/system/$U
	mkdir -p /etc/systemd/system/sysinit.target.wants
	ln -sf ../$U /etc/systemd/system/sysinit.target.wants/$U
	cat >/etc/modprobe.d/dmarw-boot.conf <<-EOF
		install dmarw_prov /sbin/insmod $DMARW_KMOD_DIR/dmarw_prov.ko nchan=4
		install dmarw_client /sbin/modprobe dmarw_prov && /sbin/insmod $DMARW_KMOD_DIR/dmarw_client.ko probe_chan=tx
	EOF
	printf 'dmarw_prov\ndmarw_client\n' >/etc/modules-load.d/dmarw-boot.conf
	# tools/vm/run --systemd masks it (slow over 9p); here it is the point
	rm -f /etc/systemd/system/systemd-modules-load.service
	echo "boot setup done"
	exit 0
fi

vm_main --systemd --timeout 480 --boot-setup "$0" -- "$@"

d=$(mktemp -d /tmp/boot.XXXXXX)
t() { local up; read -r up _ </proc/uptime; echo "# t=${up}s: $*"; }
prop() { systemctl show -p "$2" --value "$1"; }

t booted
check_eq pid1-is-systemd "$(cat /proc/1/comm)" systemd
check_eq service-active "$(systemctl is-active $U)" active
[ "$(systemctl is-active $U)" = active ] ||
	SYSTEMD_COLORS=0 systemctl status --no-pager -n 20 $U 2>&1 | sed 's/^/#   /'
check_eq service-enabled-at-sysinit "$(systemctl is-enabled $U)" enabled
check_eq modules-load-ran "$(prop systemd-modules-load.service Result)" success
check_match modules-loaded "$(lsmod | awk '{print $1}' | tr '\n' ' ')" 'dmarw_client .*dmarw_prov|dmarw_prov .*dmarw_client'
ready=$(prop $U ActiveEnterTimestampMonotonic)
mstart=$(prop systemd-modules-load.service ExecMainStartTimestampMonotonic)
echo "# dmarefwatch ready at ${ready} us, systemd-modules-load started at ${mstart} us (monotonic)"
check_eq ready-before-modules-load "$(awk -v r="$ready" -v m="$mstart" 'BEGIN { print (r > 0 && m > 0 && r <= m) }')" 1
check_eq probe-took-channel "$(in_use dma0chan0)" 1

# ---- the service's ledger names the probe's reference -----------------------
t "snapshot --json"
"$bin" --json snapshot >"$d/snap.json" 2>"$d/snap.err"
check_eq snapshot-exit $? 0
check_json snapshot-schema "$d/snap.json"
got=$(report_holders "$d/snap.json")
printf '%s\n' "$got" | sed 's/^/#   /'
pid=$(prop $U MainPID)
check_match boot-holder-named "$got" '^dma0chan0 dmarw_client_probe dmarw_client [^ ]+ True True 0$'
check_match boot-holders-from-service "$got" "^from: service pid $pid, since "

t "top --batch 1"
"$bin" top --batch 1 -o "$d/top.txt" 2>"$d/top.err"
check_eq top-exit $? 0
sed 's/^/#   /' "$d/top.txt"
check_match top-names-probe "$(grep -A3 dma0chan0 "$d/top.txt")" 'dmarw_client_probe \[dmarw_client\]  age [0-9]'

# ---- what a session of its own sees: a count, no holder ---------------------
t "without the service"
DMAREFWATCH_PIN_DIR=/sys/fs/bpf/dmarw-none "$bin" --json snapshot >"$d/own.json" 2>/dev/null
own=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
c = [c for c in r["channels"] if c["channel"] == "dma0chan0"][0]
print(len(c["holders"]), c["predating"], r["holders_from"].startswith("own session: no service running"))' "$d/own.json")
check_eq own-session-only-counts "$own" "0 1 True"

echo "# journalctl -u $U:"
journalctl -u $U -o short-monotonic --no-pager -b | grep -v -E 'libbpf: |hook [a-z_]+: ' | head -n 20 | sed 's/^/#   /'
check_fails no-warning dmesg_has 'WARNING:|BUG:'
finish
