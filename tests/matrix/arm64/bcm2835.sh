# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# shellcheck shell=dash # busybox sh: checked as dash
# Guest side (busybox sh, raspi3b, run by tools/vm/arm64/run) of
# tests/matrix/arm64_bcm2835.sh, and on raspi2b (tools/vm/arm/run) of
# tests/matrix/armhf_bcm2835.sh: the real bcm2835-dma controller and its
# clients bcm2835-sdhost (MMC, module bcm2835) and spi-bcm2835.
# Argument: clients (default; the clients' life under tracing) or rebind
# (the controller alone unbound and bound again).  Writes the
# reports and the sysfs state of each phase to /out; the host checks them.
B=dmarefwatch
# armhf (tests/matrix/armhf_bcm2835.sh): the kernel has no BTF, the host
# made one from the kernel's headers (tools/btf-from-headers)
[ -f /dmarw/dmarefwatch.btf ] && B="dmarefwatch --btf /dmarw/dmarefwatch.btf"
D=/sys/bus/platform/drivers
# device names follow the DT node names: 3f007000.dma (6.1),
# 3f007000.dma-controller (6.12)
# shellcheck disable=SC2012 # DT node names: plain words
DMA=$(cd $D/bcm2835-dma && ls -d 3f007000.* | head -n1)
MMC=3f202000.mmc SPI=3f204000.spi
summary() {
	sed -n 's/^ *\(dma[0-9]*chan[0-9]*\) *| */summary \1 /p' /sys/kernel/debug/dmaengine/summary
}
state() {	# NAME: in_use of every channel and the debugfs summary; both
		# take dma_list_mutex, which a task that died in an oops may hold
		# for good: given up after 3 s
	(
		for c in /sys/class/dma/dma*; do
			[ -e "$c" ] && echo "${c##*/}=$(cat "$c/in_use" 2>/dev/null || echo gone)"
		done
		summary
	) >"/out/state-$1.txt" 2>&1 &
	i=0
	while kill -0 $! 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
	kill -0 $! 2>/dev/null && echo "blocked (dma_list_mutex held by a dead task?)" >>"/out/state-$1.txt"
	echo "# state $1: $(tr '\n' ' ' <"/out/state-$1.txt")"
}
oops() {	# WHAT: the kernel's oops, if one happened, on the output (32-bit
		# ARM: "Unhandled fault: ..." then "Internal error: : 1b")
	dmesg | grep -qE 'Internal error:|Unable to handle kernel|Unhandled fault:' || return 0
	echo "# oops $1"
	dmesg | grep -E -A30 'Internal error:|Unable to handle kernel|Unhandled fault:' | head -40 | sed 's/^/# oops: /'
}
phase() {	# NAME [run options] -- SCRIPT: one `dmarefwatch run`, report in /out
	n=$1
	shift
	t0=$(cut -d' ' -f1 /proc/uptime)
	# a phase that hangs (a task killed by an oops holding dma_list_mutex)
	# must not take the others' reports with it
	# shellcheck disable=SC2086 # $B: the binary and, without kernel BTF, its --btf FILE
	timeout -s KILL 120 $B run --grace 0.5 --json-report "/out/$n.json" "$@" >"/out/$n.txt" 2>&1
	echo "$?" >"/out/$n.rc"
	echo "# phase $n: exit $(cat "/out/$n.rc"), $(awk -v t="$t0" '{ print $1 - t }' /proc/uptime) s"
	sed 's/^/#   /' "/out/$n.txt"
}

echo "# kernel $(uname -r) $(uname -m)"
state boot

if [ "${1:-clients}" = rebind ]; then
	# The controller unbound and bound again before any client holds a
	# channel, in a boot of its own: its registration is seen (6.1 arm64
	# has no dma_device_list in kallsyms, so the startup snapshot cannot
	# tell), and it has no device_release.
	phase register -- sh -c "echo $DMA >$D/bcm2835-dma/unbind; sleep 1;
		echo $DMA >$D/bcm2835-dma/bind; sleep 1"
	state register
	# A client probing afterwards: bcm2835-dma's remove never calls
	# of_dma_controller_free(), so the DT lookup still finds the first,
	# freed device (docs/kernel-findings.md).  Recorded, not asserted:
	# what freed memory holds by then is luck.  In the background: when
	# the async probe dies in that oops, insmod waits for it for ever
	# (async_synchronize_full() in do_init_module()).
	insmod /mods/bcm2835.ko &
	sleep 3
	state reprobe
	oops "after the rebind:"
	echo "# done"
	exit 0
fi
# hook modes: as the tool chooses them (auto), and forced
for m in auto fentry kprobe; do
	$B -v --mode $m run --json-report /out/hooks-$m.json -- true >/out/hooks-$m.txt 2>&1
	echo "$?" >/out/hooks-$m.rc
	echo "# hooks $m: exit $(cat /out/hooks-$m.rc)"
	grep '^dmarefwatch:' /out/hooks-$m.txt | sed 's/^/#   /'
done

# watch with its defaults across the clients' probe, the SPI rebind and the
# controller unbind: a live holder is no error, the unbind is
$B -v --json watch --interval 1 -o /out/watch.json 2>/out/watch.err &
WPID=$!
i=0
while ! grep -q 'watching:' /out/watch.err 2>/dev/null && [ $i -lt 900 ]; do
	sleep 0.2
	i=$((i + 1))
done
echo "# watch: attached after $((i / 5)) s: $(grep -c 'dmarefwatch: hook' /out/watch.err) hooks"

# 1. the clients probe under tracing: their channels are held at the end
phase probe -- sh -c "insmod /mods/bcm2835.ko; insmod /mods/spi-bcm2835.ko; sleep 2;
	dd if=/dev/mmcblk0 of=/dev/null bs=64k count=8 2>/dev/null; true"
state probe
$B snapshot >/out/snapshot.txt 2>&1
echo "# snapshot: exit $?"
sed 's/^/#   /' /out/snapshot.txt

# 2. the SPI client unbound and bound again: releases and new requests balance
phase spi-rebind -- sh -c "echo $SPI >$D/spi-bcm2835/unbind; sleep 1; echo $SPI >$D/spi-bcm2835/bind; sleep 1"
state spi-rebind
cp /out/watch.json /out/watch-held.json

# 3. the controller unbound while both clients hold channels (the clients
#    are re-probed first, under tracing, so the tool knows who holds them)
phase unbind -- sh -c "echo $MMC >$D/sdhost-bcm2835/unbind; echo $MMC >$D/sdhost-bcm2835/bind;
	echo $SPI >$D/spi-bcm2835/unbind; echo $SPI >$D/spi-bcm2835/bind; sleep 1;
	echo $DMA >$D/bcm2835-dma/unbind; sleep 1"
state unbind
sleep 2
kill -TERM $WPID
wait $WPID
echo "$?" >/out/watch.rc
echo "# watch: exit $(cat /out/watch.rc)"
grep '"type":"finding"' /out/watch.json | sed 's/^/#   /'

# 4. after that: the clients removed on the dead controller (their
#    dma_release_channel() on channels of an unregistered device)
phase after -- sh -c "echo $SPI >$D/spi-bcm2835/unbind; sleep 1; echo $MMC >$D/sdhost-bcm2835/unbind; sleep 1"
state after
oops "in phase after: the kernel died under the client removal"
dmesg | grep -E -A3 'WARNING:|Unable to handle|Internal error|BUG:|refcount_t|called while|in use' | head -40 | sed 's/^/# dmesg: /'
echo "# done"
