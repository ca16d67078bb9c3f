#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# --btf, DMAREFWATCH_BTF and bpf-object on the build host: a bad file is
# refused before anything loads, and bpf-object writes the object that
# bpftool gen min_core_btf cuts a kernel's BTF down with.
cd "$(dirname "$0")/../.." || exit 1
B=build/dmarefwatch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npass=0 nfail=0
pass() { echo "PASS: host/btf/$1"; npass=$((npass + 1)); }
fail() { echo "FAIL: host/btf/$1: $2"; nfail=$((nfail + 1)); }

# expect NAME STATUS REGEX [ENV=VALUE] -- ARGS...
expect() {
	local name=$1 want=$2 re=$3 out rc envs=()
	shift 3
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	out=$(env "${envs[@]}" "$B" "$@" 2>&1)
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$name" "exit $rc, want $want: $(echo "$out" | head -3)"
	elif ! printf '%s\n' "$out" | grep -qE -- "$re"; then
		fail "$name" "output does not match /$re/: $(echo "$out" | head -3)"
	else
		pass "$name"
	fi
}

expect needs-value 2 'option --btf needs a value' -- run --btf
expect help-names-it 0 '--btf FILE' -- --help
expect bpf-object-usage 2 'Usage: dmarefwatch bpf-object FILE' -- bpf-object
expect bpf-object-unwritable 2 'cannot write /nonexistent/x' -- bpf-object /nonexistent/x
expect bpf-object-writes 0 '' -- bpf-object "$tmp/o.bpf.o"
if cmp -s "$tmp/o.bpf.o" build/dmarefwatch.bpf.o; then
	pass bpf-object-is-the-built-object
else
	fail bpf-object-is-the-built-object "differs from build/dmarefwatch.bpf.o"
fi
if [ -r /sys/kernel/btf/vmlinux ] && command -v bpftool >/dev/null; then
	if bpftool gen min_core_btf /sys/kernel/btf/vmlinux "$tmp/min.btf" "$tmp/o.bpf.o" &&
		bpftool btf dump file "$tmp/min.btf" | grep -q "STRUCT 'dma_chan'"; then
		pass min-core-btf-has-dma-chan
	else
		fail min-core-btf-has-dma-chan "bpftool gen min_core_btf gave no struct dma_chan"
	fi
fi
# the file is checked before tracing is tried (root: after the capability check)
if [ "$(id -u)" = 0 ]; then
	expect not-btf 2 'cannot read BTF from /etc/passwd' -- --btf /etc/passwd run -- true
	expect not-btf-env 2 'cannot read BTF from /etc/passwd' DMAREFWATCH_BTF=/etc/passwd \
		-- run -- true
	expect missing-btf 2 'cannot read BTF from /nonexistent' -- run --btf=/nonexistent -- true
	printf '\237\353\001\000\030\000\000\000' >"$tmp/trunc.btf"
	expect truncated-btf 2 'cannot read BTF from' -- --btf "$tmp/trunc.btf" run -- true
fi
echo "# host/btf: $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
