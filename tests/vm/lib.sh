# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Helpers for dmarefwatch VM test scripts (bash).  Source it:
#     . "$(dirname "$0")/lib.sh"
#
# A scenario is one file that runs on both sides: on the host, vm_main boots
# the guest once (tools/vm/run) and re-runs the same script inside it; in the
# guest (DMARW_IN_VM=1) it runs the checks:
#
#     . "$(dirname "$0")/lib.sh"
#     vm_main --expect-splat 'chan reference count' -- "$@"   # host: boots, exits
#     prov_load nchan=2; client_load
#     client request 0 mask && check_eq req-in-use "$(in_use dma0chan0)" 1
#     finish
#
# Reporting (pass, fail, check*, expect, check_report, finish): the shared
# tests/lib/testlib.sh, sourced here.

DMARW_TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DMARW_REPO=$(cd "$DMARW_TESTS_DIR/../.." && pwd)
DMARW_CLIENT=/sys/kernel/debug/dmarw_client
# shellcheck source=../lib/testlib.sh
. "$DMARW_REPO/tests/lib/testlib.sh"

# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds
wait_for() {
	local n=$(($1 * 5))
	shift
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

# ---- schema validation (issue 14) -------------------------------------------
# check_json NAME [--schema KIND] FILE...: the JSON and JUnit outputs against
# docs/schema/, one PASS/FAIL line per file (python starts in seconds under
# TCG: validate many files in one call)
# shellcheck source=../lib/check_json.sh
. "$DMARW_REPO/tests/lib/check_json.sh"

# ---- host side -----------------------------------------------------------
# vm_main [tools/vm/run options] -- [args]: on the host, boot the guest and
# run this script in it, then exit with its status (a harness failure, i.e.
# status >= 120, is reported as a FAIL line).  In the guest: returns.
vm_main() {
	local opts=() rc
	[ -n "${DMARW_IN_VM:-}" ] && return 0
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	cd "$DMARW_REPO" || exit 1
	"$DMARW_REPO/tools/vm/run" --kernel "${DMARW_VM_KERNEL:-bookworm}" "${opts[@]}" \
		--env "DMARW_TEST=$DMARW_TEST" -- bash "$DMARW_TESTS_DIR/$(basename "$0")" "$@"
	rc=$?
	if [ $rc -ge 120 ]; then
		echo "FAIL: $DMARW_TEST: tools/vm/run failed with status $rc (see its message above)"
	fi
	exit $rc
}

# report_holders REPORT: one line per channel holder of a JSON report,
# "CHANNEL FUNCTION MODULE COMM AGE>0 LEDGER_ID>0 PREDATING" (True/False),
# then "from: HOLDERS_FROM"
report_holders() {
	python3 - "$1" <<-'EOF'
	import json, sys
	r = json.load(open(sys.argv[1]))
	for c in r["channels"]:
	    for h in c["holders"]:
	        print(c["channel"], h["function"], h["module"], h["comm"], h["age_ns"] > 0,
	              h["ledger_id"] > 0, c["predating"])
	print("from:", r.get("holders_from", ""))
	EOF
}

# ---- guest side: modules ---------------------------------------------------
kmod() { echo "${DMARW_KMOD_DIR:?not in the VM or no modules}/$1.ko"; }

# prov_load [param=value...]: insmod dmarw_prov (ndev nchan no_release private fail_alloc)
prov_load() { insmod "$(kmod dmarw_prov)" "$@"; }
prov_unload() { rmmod dmarw_prov; }
# shellcheck disable=SC2120 # module parameters are optional: most callers pass none
client_load() { insmod "$(kmod dmarw_client)" "$@"; }
client_unload() { rmmod dmarw_client; }
# mod_refcnt MODULE: the module's reference count
mod_refcnt() {
	local v
	if read -r v 2>/dev/null <"/sys/module/$1/refcnt"; then echo "$v"; else echo none; fi
}
prov_param() { echo "$2" >"/sys/module/dmarw_prov/parameters/$1"; }

# ---- guest side: the client -------------------------------------------------
# client CMD [ARGS...]: one command to the client; prints the result line,
# returns 0 when it starts with "ok".
# (bash builtins only where it is cheap: every exec costs under TCG)
client() {
	echo "$*" 2>/dev/null >"$DMARW_CLIENT/ctl"
	read -r DMARW_RESULT <"$DMARW_CLIENT/result"
	echo "$DMARW_RESULT"
	case $DMARW_RESULT in ok\ *) return 0 ;; *) return 1 ;; esac
}
# client_chan CMD...: run the command, print only the channel name (4th field)
client_chan() {
	client "$@" >/dev/null || { echo "${DMARW_RESULT:-none}"; return 1; }
	local fields
	read -r -a fields <<<"$DMARW_RESULT"
	echo "${fields[3]}"
}
client_slots() { echo "$(<"$DMARW_CLIENT/slots")"; }

# ---- guest side: kernel state -------------------------------------------------
# in_use CHAN: client_count of the channel from sysfs, "gone" if absent
in_use() {
	local v
	if read -r v 2>/dev/null <"/sys/class/dma/$1/in_use"; then echo "$v"; else echo gone; fi
}
# all_in_use: "dma0chan0=1 dma0chan1=0 ..." for every channel
all_in_use() {
	local c d v out=
	for c in /sys/class/dma/*/in_use; do
		read -r v 2>/dev/null <"$c" || continue
		d=${c%/in_use}
		out="$out ${d##*/}=$v"
	done
	echo "${out# }"
}
dma_summary() { cat /sys/kernel/debug/dmaengine/summary 2>/dev/null; }
dmesg_has() { dmesg | grep -qE -- "$1"; }
dmesg_count() { dmesg | grep -cE -- "$1"; }
unbind() { echo "$1" >"/sys/bus/platform/drivers/${2:-dmarw_prov}/unbind"; }
bind() { echo "$1" >"/sys/bus/platform/drivers/${2:-dmarw_prov}/bind"; }
