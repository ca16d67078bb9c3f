#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The Debian package and its unit under real systemd: tools/package builds
# the .deb (lintian: no error) on the host, the guest boots systemd as PID 1
# (tools/vm/run --systemd), installs it with dpkg -i, and `systemctl start
# dmarefwatch` must attach every hook (the same ones as root with every
# capability) with only the unit's capabilities, write the metrics file,
# report a leak of the test client and an unbind with users to the journal,
# stay up through the unbind; `systemctl stop` gives the final report in the
# journal and leaves no BPF program or link of ours.  The unit runs
# `watch --service` (Type=notify): while it runs its state is pinned in
# /sys/fs/bpf/dmarefwatch and `top` names its holders; the stop removes the
# pins; a SIGKILL leaves no program or link, and the next start removes the
# stale pins.  dpkg --purge leaves nothing but /var/lib/dmarefwatch.  Prints systemctl status, the journal
# and systemd-analyze security.
. "$(dirname "$0")/lib.sh"
if [ -z "${DMARW_IN_VM:-}" ]; then
	cd "$DMARW_REPO" || exit 1
	if ! out=$(tools/package 2>&1); then
		printf '%s\n' "$out"
		fail package "tools/package failed"
		finish
	fi
	printf '%s\n' "$out" | grep -E '^package: (lintian|  )'
	deb=$(printf '%s\n' "$out" | tail -n1)
	check_match package-built "$deb" '^build/pkg/dmarefwatch_[^_]+_amd64\.deb$'
	check_match lintian-no-error "$(printf '%s\n' "$out" | grep 'package: lintian: [0-9]')" ' 0 errors,'
	[ "$DMARW_NFAIL" = 0 ] || finish
	echo "# $DMARW_TEST (host): $DMARW_NPASS passed, $DMARW_NFAIL failed"
	vm_main --systemd --timeout 480 --env "DMARW_DEB=$DMARW_REPO/$deb" -- "$@"
fi

U=dmarefwatch.service
prom=/var/lib/dmarefwatch/dmarefwatch.prom
d=$(mktemp -d /tmp/systemd.XXXXXX)
# journal of the unit since it was (last) started, message text only
ujournal() { journalctl -u $U -o cat --no-pager -b; }
prop() { systemctl show -p "$1" --value $U; }
# prog_ids / link_ids: the ids of every BPF program / link in the kernel
prog_ids() { bpftool prog show | sed -n 's/^\([0-9]*\): .*/\1/p' | sort -n; }
# t WHAT: a progress line with the guest's uptime
t() { local up; read -r up _ </proc/uptime; echo "# t=${up}s: $*"; }
# prom_changed STAMP: the metrics file is not the one stamped STAMP (inode.mtime)
prom_stamp() { stat -c %i.%.9Y "$prom" 2>/dev/null; }
# shellcheck disable=SC2317 # called through wait_for
prom_changed() { [ "$(prom_stamp)" != "$1" ]; }
link_ids() { bpftool link show | sed -n 's/^\([0-9]*\): .*/\1/p' | sort -n; }

t booted
check_eq pid1-is-systemd "$(cat /proc/1/comm)" systemd

# ---- the package -----------------------------------------------------------
t "the package"
# man-db's trigger re-indexes every manual page of the host root over 9p
# (a minute and more under TCG): off in this throw-away overlay
rm -f /var/lib/man-db/auto-update
check dpkg-install dpkg -i "${DMARW_DEB:?}"
t "dpkg -i done"
dpkg -L dmarefwatch | sort >"$d/files"
check_eq binary-installed "$(command -v dmarefwatch)" /usr/sbin/dmarefwatch
check_match binary-static "$(file -L /usr/sbin/dmarefwatch)" 'statically linked'
check_match version "$(dmarefwatch --version)" "^dmarefwatch $(dpkg-query -W -f='${Version}' dmarefwatch)\$"
# a root that holds nothing but the package's files: the binary runs there
mkdir "$d/bare"
dpkg-deb -x "$DMARW_DEB" "$d/bare"
check_match runs-on-bare-root "$(chroot "$d/bare" /usr/sbin/dmarefwatch --version 2>&1)" '^dmarefwatch '
check man-page test -s /usr/share/man/man8/dmarefwatch.8.gz
check bash-completion test -s /usr/share/bash-completion/completions/dmarefwatch
check_eq unit-installed "$(prop FragmentPath)" /lib/systemd/system/$U
check_eq unit-execstart-usr-sbin "$(grep -c '^ExecStart=/usr/sbin/dmarefwatch watch --service ' /lib/systemd/system/$U)" 1
check_eq unit-type-notify "$(prop Type)" notify
check_eq not-enabled "$(systemctl is-enabled $U)" disabled
check_eq not-started "$(systemctl is-active $U)" inactive
check copyright grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' \
	/usr/share/doc/dmarefwatch/copyright

# ---- the same hooks as root with every capability -------------------------
t "the same hooks as root with every capability"
prov_load nchan=4 || { fail load "insmod dmarw_prov"; finish; }
client_load || { fail load "insmod dmarw_client"; finish; }
dmarefwatch -v --no-stacks run -- true >"$d/root.out" 2>"$d/root.err"
grep -E '^dmarefwatch: hook [a-z_]+: ' "$d/root.err" | sort >"$d/root.hooks"
nhooks=$(wc -l <"$d/root.hooks")
check_eq root-lists-hooks "$(awk -v n="$nhooks" 'BEGIN { print (n >= 8) }')" 1
echo "# hooks as root: $(grep -c -v unavailable "$d/root.hooks") of $nhooks attached"

# the unit as installed, with a drop-in for a test's pace only: ExecStart
# with -v (the hook list) and short intervals; every hardening line stays
mkdir -p /run/systemd/system/$U.d
cat >/run/systemd/system/$U.d/test.conf <<-'EOC'
	[Service]
	ExecStart=
	ExecStart=/usr/sbin/dmarefwatch -v watch --service --interval 1 --min-age 2 --prometheus /var/lib/dmarefwatch/dmarefwatch.prom
	EOC
systemctl daemon-reload
progs0=$(prog_ids) links0=$(link_ids)

# ---- start ---------------------------------------------------------------------
t "start"
check systemctl-start systemctl start $U
check metrics-written wait_for 90 test -s $prom
check_eq active "$(systemctl is-active $U)" active
pid=$(prop MainPID)
check hooks-listed wait_for 30 sh -c "journalctl -u $U -o cat -b | grep -q 'dmarefwatch: hook dma_chan_get:'"
ujournal | grep -E '^dmarefwatch: hook [a-z_]+: ' | sort >"$d/unit.hooks"
check_eq hooks-as-root "$(diff "$d/root.hooks" "$d/unit.hooks" | grep '^[<>]' | tr '\n' ' ')" ""
check_eq hook-mode-metrics "$(grep -c '^dmarefwatch_hook_mode{.*} 1$' $prom)" \
	"$(grep -c -v unavailable "$d/unit.hooks")"
# only the unit's capabilities: CAP_SYSLOG (34), CAP_PERFMON (38), CAP_BPF (39)
caps=000000c400000000
check_eq cap-effective "$(awk '$1 == "CapEff:" { print $2 }' /proc/"$pid"/status)" $caps
check_eq cap-bounding "$(awk '$1 == "CapBnd:" { print $2 }' /proc/"$pid"/status)" $caps
check_eq no-new-privs "$(awk '$1 == "NoNewPrivs:" { print $2 }' /proc/"$pid"/status)" 1
check_eq seccomp-filter "$(awk '$1 == "Seccomp:" { print $2 }' /proc/"$pid"/status)" 2
check_eq uid-root "$(awk '$1 == "Uid:" { print $2 }' /proc/"$pid"/status)" 0
nprogs=$(comm -13 <(echo "$progs0") <(prog_ids) | grep -c .)
nlinks=$(comm -13 <(echo "$links0") <(link_ids) | grep -c .)
echo "# while running: $nprogs BPF programs and $nlinks links of ours"
check_eq progs-loaded "$(awk -v n="$nprogs" 'BEGIN { print (n > 0) }')" 1
pins=/sys/fs/bpf/dmarefwatch
check_eq pinned-by-unit "$(stat -c '%a %U' $pins 2>&1)" "700 root"

# ---- a reader names the service's holder ------------------------------------
t "top names the service's holder"
check_eq reader-take "$(client_chan request 1 mask)" dma0chan0
dmarefwatch top --batch 1 -o "$d/top.txt" 2>"$d/top.err"
sed "s/^/#   /" "$d/top.txt"
check_match reader-top-source "$(cat "$d/top.txt")" "service pid $pid, since"
check_match reader-top-holder "$(grep -A3 dma0chan0 "$d/top.txt")" 'dmarw_client_request_by_mask \[dmarw_client\]'
check reader-release client release 1

# ---- a leak: the client takes a channel, forgets it, is unloaded ---------
t "a leak: the client takes a channel, forgets it, is unloaded"
check_eq leak-request "$(client_chan request 0 mask)" dma0chan0
check leak-forget client forget 0
check client-unload client_unload
check leak-in-journal wait_for 30 sh -c "journalctl -u $U -o cat -b | grep -q 'error: leaked-reference: dma0chan0'"
check_match leak-names-function "$(ujournal | grep -A3 'leaked-reference: dma0chan0')" \
	'dmarw_client_request_by_mask'
check leak-counted wait_for 10 grep -qF \
	'dmarefwatch_findings_total{kind="leaked-reference",severity="error"} 1' $prom

# ---- the controller unbound with the leaked channel still counted --------
t "the controller unbound with the leaked channel still counted"
check unbind unbind dmarw_prov.0
check unregister-in-journal wait_for 30 sh -c "journalctl -u $U -o cat -b | grep -q 'error: unregister-with-users: dma0'"
m=$(prom_stamp)
check metrics-after-unbind wait_for 10 prom_changed "$m"
check_eq alive-after-unbind "$(systemctl is-active $U)/$(prop MainPID)/$(prop NRestarts)" "active/$pid/0"
check rebind bind dmarw_prov.0

echo "# systemctl status $U:"
SYSTEMD_COLORS=0 systemctl status --no-pager -n 0 $U | sed 's/^/#   /'

# ---- stop: the final report, nothing left attached -----------------------
t "stop: the final report, nothing left attached"
check systemctl-stop systemctl stop $U
check_eq stopped "$(systemctl is-active $U)" inactive
check_eq stop-result "$(prop Result)/$(prop ExecMainStatus)" success/0
check_match final-report "$(ujournal | tail -n 30)" 'final report: [0-9]+ leaked reference'
check_eq no-prog-left "$(comm -13 <(echo "$progs0") <(prog_ids) | tr '\n' ' ')" ""
check_eq no-link-left "$(comm -13 <(echo "$links0") <(link_ids) | tr '\n' ' ')" ""
check_fails stop-removes-pins test -e $pins

# ---- SIGKILL: nothing attached, the next start removes the stale pins -------
t "SIGKILL"
check start-again systemctl start $U
kpid=$(prop MainPID)
check pinned-again test -e $pins/owner
check kill-sent systemctl kill -s KILL $U
# shellcheck disable=SC2317 # called through wait_for
gone() { ! kill -0 "$kpid" 2>/dev/null; }
check killed wait_for 30 gone
check_eq killed-no-prog-left "$(comm -13 <(echo "$progs0") <(prog_ids) | tr '\n' ' ')" ""
check_eq killed-no-link-left "$(comm -13 <(echo "$links0") <(link_ids) | tr '\n' ' ')" ""
check killed-pins-stale test -e $pins/owner
check restart systemctl restart $U
check_match restart-removed-stale "$(ujournal | grep 'removed the stale service state')" \
	"removed the stale service state in $pins: its owner, pid $kpid, is gone"
check stop-again systemctl stop $U
check_fails stop-again-removes-pins test -e $pins
echo "# journalctl -u $U (leak, unbind, final report):"
ujournal | grep -v -E '^(dmarefwatch: hook |libbpf: )' | grep -E -A3 'leaked-reference|unregister-with-users|final report|Started|Stopp|Deactivated' |
	head -n 60 | sed 's/^/#   /'
echo "# systemd-analyze security $U:"
systemd-analyze security --no-pager $U >"$d/security" 2>&1
grep -E '^✗|Overall exposure' "$d/security" | sed 's/^/#   /'
check_match security-score "$(grep 'Overall exposure' "$d/security")" 'exposure level for dmarefwatch.service: [0-9.]+'

# ---- purge: nothing but /var/lib/dmarefwatch --------------------------------
t "purge: nothing but /var/lib/dmarefwatch"
check dpkg-purge dpkg --purge dmarefwatch
left=
while read -r f; do
	[ -d "$f" ] && continue		# /usr, /lib/systemd/system, ...: not ours
	[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done <"$d/files"
check_eq purge-removes-files "${left# }" ""
check_eq purge-no-unit-links "$(find /etc/systemd /var/lib/systemd -name '*dmarefwatch*' 2>/dev/null | tr '\n' ' ')" ""
check_eq purge-no-doc-dir "$(ls -d /usr/share/doc/dmarefwatch 2>/dev/null)" ""
check_eq state-dir-kept "$(ls /var/lib/dmarefwatch)" dmarefwatch.prom
check_fails no-warning dmesg_has 'WARNING:|BUG:'
finish
