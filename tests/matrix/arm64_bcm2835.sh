#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# tests/matrix/arm64_bcm2835.sh [--kernel SUITE]: dmarefwatch on raspi3b
# (tools/vm/arm64/run) against the real bcm2835-dma controller and its real
# clients; the guest part is tests/matrix/arm64/bcm2835.sh, the checks run
# here on its reports (tests/vm/findings.py).  Prints PASS/FAIL lines and
# "HOOK <kver> <requested> <hook> <mode>" lines.
set -u
cd "$(dirname "$0")/../.." || exit 2
kernel=bookworm
[ "${1:-}" = --kernel ] && kernel=$2
DMARW_TEST=arm64_bcm2835/$kernel
# shellcheck source=../lib/testlib.sh
. tests/lib/testlib.sh
F=tests/vm/findings.py
M=tests/matrix/reports.py
# shellcheck source=bcm2835_checks.sh
. tests/matrix/bcm2835_checks.sh
# (the "errors N" checks count findings of severity error only: warnings
# such as missing-release-callback at startup depend on whether the
# kernel's device list is readable: 6.12 yes, 6.1 arm64 no)
# shellcheck source=../lib/check_json.sh
. tests/lib/check_json.sh
OOPS='Internal error: Oops|Unable to handle kernel'
[ -x build/arm64/dmarefwatch ] || make -s ARCH=arm64 || { fail build "make ARCH=arm64"; finish; }

run=build/matrix/arm64-$kernel-run
rm -rf "$run"
tools/vm/arm64/run --kernel "$kernel" --out "$run" -- tests/matrix/arm64/bcm2835.sh
rc=$?
O=$run/out
if [ $rc -ge 120 ] || [ ! -d "$O" ]; then
	fail boot "tools/vm/arm64/run failed with status $rc"
	finish
fi
kver=$(awk -F= '$1 == "kernel" { print $2 }' "$run/config")
for m in auto fentry kprobe; do
	if [ $m = fentry ] && [ "$(cat "$O/hooks-$m.rc")" = 2 ] &&
		grep -q 'fentry refused' "$O/hooks-$m.txt"; then
		# 6.1 arm64: no fentry (error 524); the tool refuses --mode fentry
		# with the reason, and auto must then have chosen kprobes
		echo "# $kver: --mode fentry refused: $(grep -m1 'fentry refused' "$O/hooks-$m.txt")"
		check_report hooks-fentry-refused-auto-kprobe "$O/hooks-auto.json" hook dma_chan_get kprobe
		continue
	fi
	[ -f "$O/hooks-$m.json" ] || { fail hooks-$m "no report (exit $(cat "$O/hooks-$m.rc"))"; continue; }
	"$M" hooks "$O/hooks-$m.json" "$kver" $m
	check_eq hooks-$m-exit "$(cat "$O/hooks-$m.rc")" 0
done

bcm2835_checks

# The rebind boot: the controller alone unbound and bound again
O2=$run-rebind/out
rm -rf "$run-rebind"
tools/vm/arm64/run --kernel "$kernel" --out "$run-rebind" -- tests/matrix/arm64/bcm2835.sh rebind
rc=$?
if [ $rc -ge 120 ] || [ ! -d "$O2" ]; then
	fail rebind-boot "tools/vm/arm64/run failed with status $rc"
else
	check_eq rebind-exit "$(cat "$O2/register.rc")" 0
	# the new registration, by the driver's probe (6.12 also reports the
	# first device at startup: a second finding, a different device)
	check_report rebind-missing-release-callback "$O2/register.json" count missing-release-callback 1 \
		device=dma0 severity=warning holder.function=bcm2835_dma_probe holder.module=vmlinux
	check_report rebind-no-error "$O2/register.json" errors 0
	check_json rebind-schema "$O2"/*.json
	check_match rebind-text-names-driver "$(cat "$O2/register.txt")" 'missing-release-callback: dma0 .*bcm2835-dma'
	if grep -qE "$OOPS" "$O2/dmesg"; then
		echo "# $kver: a client probing after the controller's rebind oopsed (stale of_dma entry):"
		grep -E -A16 "$OOPS" "$O2/dmesg" | grep -E 'pc :|lr :' | sed 's/^/#   /'
	fi
fi

"$M" summary "$O" probe spi-rebind unbind after
finish
