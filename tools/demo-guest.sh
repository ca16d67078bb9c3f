#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The demo's guest side (tools/demo runs it in QEMU).
# shellcheck source=../tests/vm/lib.sh
. tests/vm/lib.sh
B="build/dmarefwatch --mode ${DMARW_DEMO_MODE:-auto}"
L=tests/vm/lib.sh
say() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }

# three controllers, one per story; dma1 serves the clean run at the end
prov_load ndev=3 nchan=2 && client_load
say "the kernel's dmaengine state, read through BPF" "dmarefwatch snapshot"
$B snapshot

say "1. a client that forgets to release its channel (exit 3)" \
	"dmarefwatch run -- sh -c 'request a channel of dmarw_prov.0; forget it'"
$B run -- bash -c ". $L; client request 0 mask dmarw_prov.0 >/dev/null; client forget 0 >/dev/null"
echo "exit status: $?"

say "2. a double release: the kernel only warns once per boot" \
	"dmarefwatch run -- sh -c 'request a channel of dmarw_prov.1; release it twice'"
$B run -- bash -c ". $L; client request 1 mask dmarw_prov.1 >/dev/null; client release-twice 1 >/dev/null"
echo "exit status: $?"

say "3. a controller unbound while a client holds one of its channels" \
	"dmarefwatch run -- sh -c 'request a channel of dmarw_prov.2; unbind dmarw_prov.2; release'"
$B run -- bash -c ". $L; client request 2 mask dmarw_prov.2 >/dev/null; unbind dmarw_prov.2; client release 2 >/dev/null"
echo "exit status: $?"

say "4. a clean client: no finding, the client's own status (0)" \
	"dmarefwatch --device dmarw_prov.1 run -- sh -c 'request; copy 64 KiB through the channel; release'"
$B --device dmarw_prov.1 run -- bash -c ". $L; client request 3 mask dmarw_prov.1 >/dev/null; client memcpy 3 65536 >/dev/null; client release 3 >/dev/null"
echo "exit status: $?"
