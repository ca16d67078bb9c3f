#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# References left behind: a forgotten channel and an error-path leak survive
# the unload of the client; the kernel keeps in_use at 1 and the provider
# module pinned.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
vm_main -- "$@"

prov_load nchan=4 || { fail load "insmod dmarw_prov"; finish; }
client_load || { fail load "insmod dmarw_client"; finish; }

check_eq forget-request "$(client_chan request 0 mask)" dma0chan0
check forget client forget 0
check_eq forget-slots "$(client_slots)" ""
check_eq forget-in-use "$(in_use dma0chan0)" 1

# the error path requests a channel, fails a setup step, returns without release
res=$(client errpath 1)
check_eq errpath-result "$res" "ok errpath 1 dma0chan1"
check_eq errpath-slots "$(client_slots)" ""
check_eq errpath-in-use "$(all_in_use)" "dma0chan0=1 dma0chan1=1 dma0chan2=0 dma0chan3=0"

# a held slot is released at unload, the leaked ones are not
client request 2 mask >/dev/null
check_eq held-in-use "$(in_use dma0chan2)" 1
check client-unload client_unload
check_eq after-unload-in-use "$(all_in_use)" "dma0chan0=1 dma0chan1=1 dma0chan2=0 dma0chan3=0"
check_eq provider-pinned "$(mod_refcnt dmarw_prov)" 2
check_fails provider-unload-refused prov_unload
check_match summary-in-use "$(dma_summary)" 'dma0chan0 +\| in-use'
check_match summary-in-use-1 "$(dma_summary)" 'dma0chan1 +\| in-use'

# a reloaded client cannot see them; another request gets a free channel
client_load
check_eq reload-request "$(client_chan request 0 mask)" dma0chan2
check reload-release client release 0
check_eq final-in-use "$(all_in_use)" "dma0chan0=1 dma0chan1=1 dma0chan2=0 dma0chan3=0"
check_fails no-warning dmesg_has 'WARNING:|BUG:'
finish
