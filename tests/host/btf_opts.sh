#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# --btf, DMAREFWATCH_BTF and bpf-object on the build host: a bad file is
# refused before anything loads, and bpf-object writes the object that
# bpftool gen min_core_btf cuts a kernel's BTF down with.
cd "$(dirname "$0")/../.." || exit 1
B=build/dmarefwatch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DMARW_TEST=host/btf
# shellcheck source=../lib/testlib.sh
. tests/lib/testlib.sh

expect needs-value 2 'option --btf needs a value' -- "$B" run --btf
expect help-names-it 0 '--btf FILE' -- "$B" --help
expect bpf-object-usage 2 'Usage: dmarefwatch bpf-object FILE' -- "$B" bpf-object
expect bpf-object-unwritable 2 'cannot write /nonexistent/x' -- "$B" bpf-object /nonexistent/x
expect bpf-object-writes 0 '' -- "$B" bpf-object "$tmp/o.bpf.o"
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
	expect not-btf 2 'cannot read BTF from /etc/passwd' -- "$B" --btf /etc/passwd run -- true
	expect not-btf-env 2 'cannot read BTF from /etc/passwd' \
		-- env DMAREFWATCH_BTF=/etc/passwd "$B" run -- true
	expect missing-btf 2 'cannot read BTF from /nonexistent' -- "$B" run --btf=/nonexistent -- true
	printf '\237\353\001\000\030\000\000\000' >"$tmp/trunc.btf"
	expect truncated-btf 2 'cannot read BTF from' -- "$B" --btf "$tmp/trunc.btf" run -- true
fi
finish
