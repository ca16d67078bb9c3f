#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Nested dmaengine_get()/dmaengine_put(): every public channel's in_use
# follows the global count (2, then 0).  Kernels without the stable fix of
# dma_chan_put() (device kref dropped on every put, not on the last one)
# underflow the device kref here: "refcount_t: underflow" (declared as
# expected, reported as a "#" line), and the device is released while
# registered so later requests fail.  Kernels with the fix: no splat.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
vm_main --expect-splat 'refcount_t: underflow' -- "$@"

prov_load nchan=2 || { fail load "insmod dmarw_prov"; finish; }
client_load || { fail load "insmod dmarw_client"; finish; }

check get-1 client get
check get-2 client get
check_eq get-in-use-2 "$(all_in_use)" "dma0chan0=2 dma0chan1=2"
check_eq get-refcnt "$(mod_refcnt dmarw_prov)" 4
check put-1 client put
check_eq put-in-use-1 "$(all_in_use)" "dma0chan0=1 dma0chan1=1"
check put-2 client put
check_eq put-in-use-0 "$(all_in_use)" "dma0chan0=0 dma0chan1=0"
check_eq put-refcnt "$(mod_refcnt dmarw_prov)" 0
if dmesg_has 'refcount_t: underflow'; then
	echo "# $DMARW_KVER: dma_chan_put() drops the device kref on every put (no stable fix): kref underflow"
	check_match underflow-in-dmaengine-put "$(dmesg | grep -A30 'refcount_t: underflow')" 'dmaengine_put'
	check_match released-while-registered "$(dmesg)" 'dmarw_prov.0: dma device released'
else
	echo "# $DMARW_KVER: dma_chan_put() drops the device kref on the last put (stable fix present)"
	check request-after client request 0 mask
	check release-after client release 0
	check_fails not-released dmesg_has 'dma device released'
fi
check_fails no-other-warning dmesg_has 'WARNING: .* (dma_release_channel|__dma_async_device_channel_unregister)'
finish
