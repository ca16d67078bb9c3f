# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# shellcheck shell=bash
# The checks of the clients boot of the real bcm2835-dma controller, on
# the reports that tests/matrix/arm64/bcm2835.sh wrote in $O: the same on
# arm64 raspi3b (tests/matrix/arm64_bcm2835.sh) and armhf raspi2b
# (tests/matrix/armhf_bcm2835.sh).  Needs the test library, $O, $kver,
# $F (tests/vm/findings.py), $M (tests/matrix/reports.py) and $OOPS (the
# architecture's oops lines).

# shellcheck disable=SC2154 # $O, $kver, $OOPS: set by the sourcing script
bcm2835_checks() {
	# 1. probe: each client's channels held, named by function and module
	mmc_chan=$(awk '/3f202000.mmc:rx-tx/ { print $2 }' "$O/state-probe.txt")
	spi_tx=$(awk '/3f204000.spi:tx/ { print $2 }' "$O/state-probe.txt")
	spi_rx=$(awk '/3f204000.spi:rx/ { print $2 }' "$O/state-probe.txt")
	check_match probe-channels "$mmc_chan $spi_tx $spi_rx" '^dma0chan[0-9]+ dma0chan[0-9]+ dma0chan[0-9]+$'
	check_eq probe-exit "$(cat "$O/probe.rc")" 3
	check_report probe-mmc-holder "$O/probe.json" count leaked-reference 1 channel="$mmc_chan" holder.module=bcm2835
	check_report probe-spi-tx-holder "$O/probe.json" count leaked-reference 1 channel="$spi_tx" holder.module=spi_bcm2835
	check_report probe-spi-rx-holder "$O/probe.json" count leaked-reference 1 channel="$spi_rx" holder.module=spi_bcm2835
	# the client devices and drivers, as dma_request_chan() saw them
	check_report probe-mmc-client "$O/probe.json" count leaked-reference 1 channel="$mmc_chan" \
		holder.client=3f202000.mmc:rx-tx holder.client_driver=sdhost-bcm2835
	check_report probe-spi-tx-client "$O/probe.json" count leaked-reference 1 channel="$spi_tx" \
		holder.client=3f204000.spi:tx holder.client_driver=spi-bcm2835
	check_report probe-only-held "$O/probe.json" errors 3
	check_report probe-leaks "$O/probe.json" count leaked-reference 3
	check_match probe-text-names-holders "$(grep -E 'leaked|held|holder' "$O/probe.txt")" 'bcm2835_.*\[bcm2835\]'
	check_match probe-text-names-spi "$(cat "$O/probe.txt")" '\[spi_bcm2835\]'

	# 2. SPI rebind: what was released is taken again, nothing unbalanced
	check_eq spi-rebind-balanced "$(grep -v summary "$O/state-spi-rebind.txt" | tr '\n' ' ')" \
		"$(grep -v summary "$O/state-probe.txt" | tr '\n' ' ')"
	check_report spi-rebind-no-unbalanced "$O/spi-rebind.json" count unbalanced-put 0
	check_report spi-rebind-held-again "$O/spi-rebind.json" count leaked-reference 2 holder.module=spi_bcm2835
	check_report spi-rebind-only "$O/spi-rebind.json" errors 2

	# 3. controller unbind with both clients holding channels
	check_eq unbind-exit "$(cat "$O/unbind.rc")" 3
	check_report unbind-mmc "$O/unbind.json" count unregister-with-users 1 channel="$mmc_chan" holder.module=bcm2835
	check_report unbind-one-per-device "$O/unbind.json" count unregister-with-users 1 device=dma0
	# one finding per device; its evidence names the holder of every channel in use
	ev=$("$M" evidence "$O/unbind.json" unregister-with-users)
	check_match unbind-evidence-mmc-client "$ev" "$mmc_chan client_count 1: held by .* from bcm2835_probe \\[bcm2835\\]"
	check_match unbind-evidence-spi-client "$ev" "$spi_tx client_count 1: held by .* from bcm2835_spi_probe \\[spi_bcm2835\\]"
	check_match unbind-evidence-no-release-cb "$ev" 'no device_release callback'
	check_match unbind-evidence-names-sdhost "$ev" "$mmc_chan client_count 1: held by .* for 3f202000\\.mmc:rx-tx \\(sdhost-bcm2835\\)"
	check_match unbind-evidence-names-spi "$ev" "$spi_rx client_count 1: held by .* for 3f204000\\.spi:rx \\(spi-bcm2835\\)"
	# the stacks the tool recorded do show the clients (kernel truth)
	check_match unbind-stack-mmc "$(cat "$O/unbind.txt")" 'bcm2835_probe\+0x[0-9a-f]+ \[bcm2835\]'
	check_match unbind-stack-spi "$(cat "$O/unbind.txt")" 'bcm2835_spi_probe\+0x[0-9a-f]+ \[spi_bcm2835\]'
	check_match unbind-kernel-warned "$(cat "$O/dmesg")" '__dma_async_device_channel_unregister called while 1 clients hold a reference'

	# the same under `watch`, defaults, started before the clients: their
	# held channels and the SPI rebind make no error; the unbind names both
	check_eq watch-exit "$(cat "$O/watch.rc")" 0
	check_report watch-held-no-error "$O/watch-held.json" errors 0
	check_report watch-held-no-long-held "$O/watch-held.json" count long-held-reference 0
	check_report watch-unbind "$O/watch.json" count unregister-with-users 1 device=dma0 \
		"evidence~for 3f202000.mmc:rx-tx (sdhost-bcm2835)" "evidence~for 3f204000.spi:tx (spi-bcm2835)"
	check_report watch-unbind-only-error "$O/watch.json" errors 1

	# the controller has no device_release: said at startup where the
	# kernel's device list is readable (6.12), always when its registration is
	# seen (the rebind boot below)
	n=0
	for r in "$O"/*.json; do
		"$F" "$r" count missing-release-callback 1 device=dma0 severity=warning >/dev/null 2>&1 && n=$((n + 1))
	done
	check_json schema "$O"/*.json
	case $kver in
	6.1.*) echo "# $kver: missing-release-callback in $n reports of the clients boot (none expected: no dma_device_list in kallsyms)" ;;
	*) check_match missing-release-callback-at-startup "$n" '^[1-9]' ;;
	esac

	# 4. after: the clients let go of channels of the dead controller
	check_match after-report "$(cat "$O/after.rc")" '^[0-9]+$'
	# a new run sees the SPI client release a channel of a controller that the
	# kernel no longer lists: unregistered while in use, said after the fact.
	# Unless the kernel died first: the SPI remove calls into the freed
	# controller before its dma_release_channel() (6.1 and 6.12, depending on
	# what the freed memory holds; reported below)
	if grep -qE "$OOPS" "$O/dmesg"; then
		echo "# $kver: phase after not judged: the kernel died under the client removal;" \
			"the tool saw $("$M" events "$O/after.json" 2>/dev/null || echo no) events"
	else
		check_report after-unregistered-before "$O/after.json" count unregister-with-users 1 device=dma0 \
			holder.module=spi_bcm2835
	fi
	if grep -qE "$OOPS" "$O/dmesg"; then
		# the kernel itself died under the client's dma_release_channel():
		# reported in docs/kernel-findings.md; the tool's report is what it saw
		echo "# $kver: oops in the client removal after the controller unbind:"
		grep -E -A8 "$OOPS" "$O/dmesg" | sed 's/^/#   /'
	fi
}
