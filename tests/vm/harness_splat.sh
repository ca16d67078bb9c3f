#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tools/vm/run and kernel splats: an unexpected WARNING fails the run (126)
# even when the command succeeds; a declared one passes; an oops that leaves
# the command running fails fast instead of waiting for the timeout.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$DMARW_REPO" || exit 1
RUN=tools/vm/run
K=(--kernel "${DMARW_VM_KERNEL:-bookworm}")
tmp=build/tmp/harness.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
double_release='. tests/vm/lib.sh; prov_load && client_load && client request 0 mask && client release-twice 0'

# 1. the dmaengine double-release WARNING, not declared (another one is)
$RUN "${K[@]}" --expect-splat 'something else' -- bash -c "$double_release" >"$tmp/out" 2>"$tmp/err"
rc=$?
check_eq unexpected-warning-status "$rc" 126
check_match unexpected-warning-message "$(tail -n1 "$tmp/err")" \
	'^vm: error: unexpected kernel splat \(1 in dmesg; command status 0\): WARNING: .*dma_release_channel'
check_match unexpected-warning-shown "$(cat "$tmp/err")" 'chan reference count 0 != 1'
check_match command-output-kept "$(cat "$tmp/out")" '^ok release-twice 0 dma0chan0$'

# 2. the same, declared
$RUN "${K[@]}" --expect-splat 'chan reference count 0 != 1' -- bash -c "$double_release" >"$tmp/out" 2>"$tmp/err"
check_eq expected-warning-passes "$?" 0
# an expected splat that does not happen is not an error by itself
# shellcheck disable=SC2016 # expanded by bash in the guest
$RUN "${K[@]}" --expect-splat 'never happens' --expect-splat 'chan reference count' \
	-- bash -c '. tests/vm/lib.sh; insmod $(kmod dmarw_splat) what=warn' >"$tmp/out" 2>"$tmp/err"
rc=$?
check_eq other-warning-status "$rc" 126
check_match other-warning-message "$(tail -n1 "$tmp/err")" 'WARNING: .*dmarw_splat'

# 3. an oops that kills a task while the command goes on: fail fast
t0=$SECONDS
# shellcheck disable=SC2016 # expanded by bash in the guest
$RUN "${K[@]}" --timeout 120 -- bash -c '. tests/vm/lib.sh; insmod $(kmod dmarw_splat) what=oops; sleep 1000' \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
took=$((SECONDS - t0))
check_eq oops-status "$rc" 126
check_match oops-message "$(tail -n1 "$tmp/err")" 'unexpected kernel splat, command not finished .*(kernel BUG|invalid opcode|Oops)'
check oops-fast test "$took" -lt 60
finish
