#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Clean workloads on a real kernel: request/release by mask and by name, a
# verified memcpy, fail_alloc, dmaengine_get/put, a private device, and
# request/release loops on both CPUs; every count must end at 0.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
vm_main -- "$@"

prov_load nchan=4 || { fail load "insmod dmarw_prov"; finish; }
client_load || { fail load "insmod dmarw_client"; finish; }
check_eq channels "$(all_in_use)" "dma0chan0=0 dma0chan1=0 dma0chan2=0 dma0chan3=0"

# by mask
ch=$(client_chan request 0 mask dmarw_prov.0)
check_eq mask-request "$ch" dma0chan0
check_eq mask-in-use-1 "$(in_use dma0chan0)" 1
check_eq mask-slots "$(client_slots)" "0 dma0chan0"
check_match mask-summary "$(dma_summary)" 'dma0chan0 +\| in-use'
check_eq mask-refcnt "$(mod_refcnt dmarw_prov)" 1
check mask-release client release 0
check_eq mask-in-use-0 "$(in_use dma0chan0)" 0
check_eq mask-refcnt-0 "$(mod_refcnt dmarw_prov)" 0

# by name, through the provider's dma_slave_map
check_eq name-tx "$(client_chan request 1 name tx)" dma0chan0
check_eq name-rx "$(client_chan request 2 name rx)" dma0chan1
check_eq name-in-use "$(all_in_use)" "dma0chan0=1 dma0chan1=1 dma0chan2=0 dma0chan3=0"
check_match name-summary "$(dma_summary)" 'dma0chan1 +\| dmarw_client:rx'
check_fails name-tx-busy-fails client request 3 name tx
check_fails name-unknown-fails client request 3 name nosuch
check name-release-tx client release 1
check name-release-rx client release 2
check_eq name-in-use-0 "$(all_in_use)" "dma0chan0=0 dma0chan1=0 dma0chan2=0 dma0chan3=0"

# a real copy through the channel, checked byte for byte
client request 3 mask >/dev/null
for len in 1 4096 65536 1048576; do
	check memcpy-$len client memcpy 3 $len
done
check memcpy-release client release 3
check_fails release-empty-fails client release 3
check_fails bad-command-fails client frobnicate 1
check_fails bad-slot-fails client request 16 mask

# fail_alloc: device_alloc_chan_resources() fails, nothing stays held
prov_param fail_alloc 1
check_fails fail-alloc-mask-fails client request 0 mask
check_match fail-alloc-name-errno "$(client request 0 name tx)" '^err request 0 -12$'
check_eq fail-alloc-in-use "$(all_in_use)" "dma0chan0=0 dma0chan1=0 dma0chan2=0 dma0chan3=0"
check_eq fail-alloc-refcnt "$(mod_refcnt dmarw_prov)" 0
prov_param fail_alloc 0
check fail-alloc-recovers client request 0 mask
client release 0 >/dev/null

# dmaengine_get/put take every public channel (nested get/put: kernel_get_put)
check get client get
check_eq get-in-use-1 "$(all_in_use)" "dma0chan0=1 dma0chan1=1 dma0chan2=1 dma0chan3=1"
check_eq get-refcnt "$(mod_refcnt dmarw_prov)" 4
check_fails get-private-request-fails client request 0 mask
check put client put
check_eq put-in-use-0 "$(all_in_use)" "dma0chan0=0 dma0chan1=0 dma0chan2=0 dma0chan3=0"
check_eq put-refcnt "$(mod_refcnt dmarw_prov)" 0
check_fails put-unbalanced-refused client put
check request-after-put client request 0 mask
check release-after-put client release 0

# request/release loops in kernel threads on both CPUs
ncpu=$(nproc)
t=$EPOCHREALTIME
res=$(client loop 10000 "$ncpu")
echo "# loop: $res in $(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')s"
check_eq loop-result "$res" "ok loop $((10000 * ncpu)) 0"
check_eq loop-in-use-0 "$(all_in_use)" "dma0chan0=0 dma0chan1=0 dma0chan2=0 dma0chan3=0"
check_eq loop-refcnt-0 "$(mod_refcnt dmarw_prov)" 0
check_eq loop-cpus "$ncpu" 2

check unload-client client_unload
check unload-prov prov_unload

# a DMA_PRIVATE device is not taken by dmaengine_get, but by request
prov_load nchan=2 private=1 && client_load
check private-get client get
check_eq private-get-in-use "$(all_in_use)" "dma0chan0=0 dma0chan1=0"
check private-request client request 0 mask
check_eq private-request-in-use "$(all_in_use)" "dma0chan0=1 dma0chan1=0"
client put >/dev/null
# the client releases what it holds when unloaded
check unload-releases client_unload
check_eq unload-in-use-0 "$(all_in_use)" "dma0chan0=0 dma0chan1=0"
check_match unload-dmesg "$(dmesg | tail -5)" 'releasing slot 0 \(dma0chan0\) at unload'
check unload-prov-2 prov_unload
check_fails no-warning dmesg_has 'WARNING:|BUG:' 
finish
