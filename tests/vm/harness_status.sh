#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tools/vm/run itself: the command's exit status, output, environment and
# working directory come back; a guest panic and a hang fail the run with
# their own status and message, never a hang or a pass.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$DMARW_REPO" || exit 1
RUN=tools/vm/run
K=(--kernel "${DMARW_VM_KERNEL:-bookworm}")
tmp=build/tmp/harness.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT

# 1. exit status, stdout+stderr, env, cwd, a file written in the guest
t0=$SECONDS
# shellcheck disable=SC2016 # expanded by bash in the guest
$RUN "${K[@]}" -- bash -c 'echo out-line; echo err-line >&2; echo "in_vm=$DMARW_IN_VM kver=$DMARW_KVER kmod=$DMARW_KMOD_DIR pwd=$PWD uid=$(id -u)";
	ls "$DMARW_KMOD_DIR"/dmarw_prov.ko >/dev/null && echo kmod-ok;
	mount | grep -q "on /sys/kernel/debug type debugfs" && echo debugfs-ok;
	mount | grep -q "on /sys/kernel/tracing type tracefs" && echo tracefs-ok;
	test -d /lib/modules/$(uname -r)/kernel && echo modules-ok;
	modprobe -n -v dummy >/dev/null 2>&1 && echo modprobe-ok;
	echo written-in-guest > '"$tmp"'/file; exit 1' >"$tmp/out" 2>"$tmp/err"
rc=$?
check_eq exit-1 "$rc" 1
check_match stdout "$(cat "$tmp/out")" '^out-line$'
check_match stderr-streamed "$(cat "$tmp/out")" '^err-line$'
kver=$(tools/vm/kernel --no-fetch --get kver "${DMARW_VM_KERNEL:-bookworm}")
kre=$(printf '%s' "$kver" | sed 's/[].+*?()[^$|]/\\&/g')	# 6.12.95+deb12-amd64
check_match env "$(cat "$tmp/out")" "^in_vm=1 kver=$kre kmod=$DMARW_REPO/build/kmod/$kre pwd=$DMARW_REPO uid=0\$"
for w in kmod debugfs tracefs modules modprobe; do
	check_match $w "$(cat "$tmp/out")" "^$w-ok\$"
done
check_eq file-back-on-host "$(cat "$tmp/file" 2>/dev/null)" written-in-guest
check_match timing "$(cat "$tmp/err")" "^vm: .* $kre: boot [0-9.]+s, command [0-9.]+s, total [0-9.]+s"
boot=$(sed -nE 's/.*: boot ([0-9.]+)s.*/\1/p' "$tmp/err")
echo "# boot to command: ${boot}s (whole run $((SECONDS - t0))s)"
# the 10 s budget holds on an otherwise idle host: other guests on the same
# cores (parallel test runs) stretch the boot, then it is only reported
limit=${DMARW_VM_BOOT_LIMIT:-10}
others=$(pgrep -c -f '^qemu-system' || true)
if awk -v b="$boot" -v l="$limit" 'BEGIN { exit !(b < l) }'; then
	pass "boot-under-${limit}s"
elif [ "${others:-0}" -gt 0 ]; then
	echo "# boot ${boot}s with $others other QEMU guest(s) running: not judged"
else
	fail "boot-under-${limit}s" "boot to command took ${boot}s"
fi

$RUN "${K[@]}" --quiet -- sh -c 'exit 7' >/dev/null 2>"$tmp/err"
check_eq exit-7 "$?" 7
check_eq quiet "$(cat "$tmp/err")" ""

# 2. a guest panic
$RUN "${K[@]}" -- sh -c 'echo 1 > /proc/sys/kernel/sysrq; echo c > /proc/sysrq-trigger; sleep 100' \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
check_eq panic-status "$rc" 125
check_match panic-message "$(tail -n1 "$tmp/err")" '^vm: error: guest kernel panic: .*Kernel panic'

# 3. a hang: killed at --timeout, QEMU gone.  --timeout counts from QEMU's
# start, boot included: 40 s leaves a slow boot (a busy CI host once took
# over 20 s) room to reach the command, so the hang is what gets killed.
to=40
t0=$SECONDS
$RUN "${K[@]}" --timeout $to -- sleep 1000 >"$tmp/out" 2>"$tmp/err"
rc=$?
took=$((SECONDS - t0))
check_eq timeout-status "$rc" 124
if ! check_match timeout-message "$(tail -n1 "$tmp/err")" "^vm: error: timeout: COMMAND still running after ${to}s"; then
	sed 's/^/# stderr: /' "$tmp/err"
fi
check timeout-took-${to}s test "$took" -ge $to -a "$took" -le $((to + 15))
# shellcheck disable=SC2012 # the newest run dir; their names are plain words
run=$(ls -td build/vm-logs/*/ | head -n1)
check_fails timeout-qemu-gone pgrep -f "path=${run%/},"

# 4. a guest that misses --boot-timeout: booted once more, then the failure
$RUN "${K[@]}" --boot-timeout 1 -- true >"$tmp/out" 2>"$tmp/err"
check_eq noboot-status "$?" 125
check_match noboot-retried "$(cat "$tmp/err")" 'did not boot to the command within 1s .*booting once more'
check_match noboot-message "$(tail -n1 "$tmp/err")" '^vm: error: guest did not boot to the command within 1s'
# shellcheck disable=SC2012 # the newest run dir; their names are plain words
run=$(ls -td build/vm-logs/*/ | head -n1)
check noboot-first-console-kept test -f "${run}console.log.1"
check_fails noboot-qemu-gone pgrep -f "path=${run%/},"

# 4b. the same on the arm64 harness (raspi3b): 2 s is too short to boot
A64=tools/vm/arm64/run
a64=build/tmp/harness-a64.$$
printf 'echo never\n' >"$tmp/a64.sh"
$A64 --boot-timeout 2 --out "$a64" "$tmp/a64.sh" >"$tmp/out" 2>"$tmp/err"
check_eq a64-noboot-status "$?" 125
check_match a64-noboot-retried "$(cat "$tmp/err")" 'did not boot within 2s .*booting once more'
check_match a64-noboot-message "$(tail -n1 "$tmp/err")" '^vm: error: guest did not boot'
check a64-noboot-first-console-kept test -f "$a64/console.log.1"
check_fails a64-noboot-qemu-gone pgrep -f "file=$a64/sd.img"
rm -rf "$a64"

# 5. usage errors
$RUN --bogus-option -- true >/dev/null 2>&1
check_eq usage-status "$?" 120
$RUN --kernel nosuchsuite -- true >/dev/null 2>&1
check_eq bad-suite-status "$?" 120
finish
