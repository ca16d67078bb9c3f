#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The demo's guest side (tools/demo runs it in QEMU).
. tests/vm/lib.sh
B="build/dmarefwatch --mode ${DMARW_DEMO_MODE:-auto}"
L=tests/vm/lib.sh
say() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }

prov_load nchan=4 && client_load
say "the kernel's dmaengine state, read through BPF" "dmarefwatch snapshot"
$B snapshot

say "1. a client that forgets to release its channel (exit 3)" \
	"dmarefwatch run -- sh -c 'request a channel; forget it'"
$B run -- bash -c ". $L; client request 0 mask >/dev/null; client forget 0 >/dev/null"
echo "exit status: $?"

say "2. a double release: the kernel only warns once per boot" \
	"dmarefwatch run -- sh -c 'request; release; release again'"
$B run -- bash -c ". $L; client request 1 mask >/dev/null; client release-twice 1 >/dev/null"
echo "exit status: $?"

say "3. the controller unbound while a client holds a channel" \
	"dmarefwatch run -- sh -c 'request; unbind dmarw_prov.0; release'"
$B run -- bash -c ". $L; client request 2 name rx >/dev/null; unbind dmarw_prov.0; client release 2 >/dev/null"
echo "exit status: $?"

say "4. a clean client: no finding, the client's own status (0)" \
	"dmarefwatch run -- sh -c 'request; copy 64 KiB through the channel; release'"
rmmod dmarw_client; prov_load nchan=2 2>/dev/null; bind dmarw_prov.0 2>/dev/null; client_load
$B --device 'dmarw_prov.*' run -- bash -c ". $L; client request 3 mask >/dev/null; client memcpy 3 65536 >/dev/null; client release 3 >/dev/null"
echo "exit status: $?"
