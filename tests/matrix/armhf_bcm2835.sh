#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# tests/matrix/armhf_bcm2835.sh [--kernel SUITE]: the static armhf
# dmarefwatch on raspi2b (tools/vm/arm/run: Debian's 32-bit armmp kernel,
# bookworm) against the real bcm2835-dma controller and its real clients,
# as tests/matrix/arm64_bcm2835.sh does on raspi3b, with the same guest part
# (tests/matrix/arm64/bcm2835.sh).  armmp has no BTF: the file for --btf is
# made here from the kernel's headers (tools/btf-from-headers, minimised to
# what the armhf BPF object relocates), and kprobes are the only hooks.
# Prints PASS/FAIL lines and "HOOK <kver> <requested> <hook> <mode>" lines.
set -u
cd "$(dirname "$0")/../.." || exit 2
kernel=bookworm
[ "${1:-}" = --kernel ] && kernel=$2
T=armhf_bcm2835/$kernel
F=tests/vm/findings.py
M=tests/matrix/reports.py
# shellcheck source=bcm2835_checks.sh
. tests/matrix/bcm2835_checks.sh
DMARW_TEST=$T
# shellcheck source=../lib/testlib.sh
. tests/lib/testlib.sh
# shellcheck source=../lib/check_json.sh
. tests/lib/check_json.sh
# 32-bit ARM says "Unhandled fault: page domain fault" and "Internal error: : 1b"
OOPS='Internal error:|Unable to handle kernel|Unhandled fault:'
make -s ARCH=arm || { fail build "make ARCH=arm"; finish; }

# the BTF: from the armmp headers (downloaded once into the kernel cache),
# kept there per BPF object (a new dmarefwatch makes a new one)
t0=$EPOCHREALTIME
kinfo=$(tools/vm/arm64/kernel --arch armhf --headers "$kernel") || { fail btf-headers "cannot fetch the armmp headers"; finish; }
hdrs=$(printf '%s\n' "$kinfo" | sed -n 's/^headers=//p')
kdir=$(printf '%s\n' "$kinfo" | sed -n 's/^kdir=//p')
obj=build/arm/dmarefwatch.bpf.o
btf=$kdir/btf/$(md5sum <"$obj" | cut -c1-16).btf
if [ ! -s "$btf" ]; then
	mkdir -p "$kdir/btf"
	if tools/btf-from-headers --cross arm-linux-gnueabihf- --min "$obj" -o "$btf.tmp$$" "$hdrs"; then
		mv "$btf.tmp$$" "$btf"
	else
		rm -f "$btf.tmp$$"
		fail btf-from-headers "tools/btf-from-headers failed on $hdrs"
		finish
	fi
fi
mkdir -p build/matrix
cp "$btf" build/matrix/dmarefwatch.btf
pass btf-from-headers
echo "# BTF: $(stat -c %s "$btf") bytes from $hdrs in $(echo "$EPOCHREALTIME - $t0" | bc) s"

run=build/matrix/armhf-$kernel-run
rm -rf "$run"
tools/vm/arm/run --kernel "$kernel" --out "$run" --file build/matrix/dmarefwatch.btf -- tests/matrix/arm64/bcm2835.sh
rc=$?
O=$run/out
if [ $rc -ge 120 ] || [ ! -d "$O" ]; then
	fail boot "tools/vm/arm/run failed with status $rc"
	finish
fi
kver=$(awk -F= '$1 == "kernel" { print $2 }' "$run/config")
for m in auto fentry kprobe; do
	if [ $m = fentry ]; then
		# no BPF trampolines on 32-bit ARM: --mode fentry is refused
		# (-v: the start-up phases come first; the error is the last line)
		check_match hooks-fentry-refused "$(cat "$O/hooks-$m.rc") $(grep -v 'start-up:' "$O/hooks-$m.txt")" \
			'^[1-9][0-9]* .*--mode fentry needs the kernel.s own BTF'
		echo "# $kver: --mode fentry: $(grep -m1 -i 'fentry' "$O/hooks-$m.txt")"
		continue
	fi
	[ -f "$O/hooks-$m.json" ] || { fail hooks-$m "no report (exit $(cat "$O/hooks-$m.rc"))"; continue; }
	"$M" hooks "$O/hooks-$m.json" "$kver" $m
	check_eq hooks-$m-exit "$(cat "$O/hooks-$m.rc")" 0
	# every function hook a kprobe (module_free is a tracepoint everywhere),
	# but dma_device_release where the kernel inlined it (armmp 6.1.0-50
	# does, 6.1.0-57 does not): the tool said so and infers the releases
	want="module_free=tracepoint"
	if grep -q 'hook dma_device_release: unavailable (not in /proc/kallsyms' \
		"$O/hooks-$m.txt"; then
		want="dma_device_release=unavailable module_free=tracepoint"
	fi
	check_eq hooks-$m-all-kprobe "$("$M" others "$O/hooks-$m.json" kprobe)" "$want"
done
check_match btf-used "$(cat "$O/hooks-auto.txt")" 'no kernel BTF: kprobe mode, types from /dmarw/dmarefwatch.btf'

bcm2835_checks

"$M" summary "$O" probe spi-rebind unbind after
finish
