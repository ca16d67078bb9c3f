#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Unbinding a provider (dma_async_device_unregister) while a client holds a
# channel.  With device_release: unbind succeeds, the channel's sysfs entry
# goes away, the device is released only at the client's last release.
# Without device_release (no_release=1): the kernel's WARN_ONCE "called while
# 1 clients hold a reference" from __dma_async_device_channel_unregister,
# declared as expected; releasing afterwards does not crash.  And the core
# still hands out the other channels of an unbound device that a holder keeps
# alive (get after unregister; provider knob alloc_after_remove=1).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
vm_main --expect-splat '__dma_async_device_channel_unregister called while [0-9]+ clients hold a reference' -- "$@"

released() { dmesg_count 'dmarw_prov.0: dma device released'; }

# --- with device_release ---
prov_load nchan=2 || { fail load "insmod dmarw_prov"; finish; }
client_load || { fail load "insmod dmarw_client"; finish; }
check_eq held "$(client_chan request 0 mask)" dma0chan0
check unbind unbind dmarw_prov.0
check_eq sysfs-gone "$(in_use dma0chan0)" gone
check_eq client-still-holds "$(client_slots)" "0 dma0chan0"
check_eq not-released-yet "$(released)" 0
check_eq provider-pinned "$(mod_refcnt dmarw_prov)" 1
check_fails provider-unload-refused prov_unload
# the unbound device's channels must not be handed out again (the provider refuses)
check_fails request-after-unbind-fails client request 1 mask
check_match request-after-unbind-dmesg "$(dmesg | tail -3)" 'device unbound, refusing allocation'
check release-after-unbind client release 0
check_eq released-at-last-put "$(released)" 1
check_eq provider-unpinned "$(mod_refcnt dmarw_prov)" 0
check rebind bind dmarw_prov.0
check_eq rebind-in-use "$(all_in_use)" "dma0chan0=0 dma0chan1=0"
check rebind-request client request 0 mask
check rebind-release client release 0
# unbind with nothing held releases at once
check unbind-idle unbind dmarw_prov.0
check_eq unbind-idle-released "$(released)" 2
check rebind-2 bind dmarw_prov.0
check_fails no-warning dmesg_has 'WARNING:|BUG:'
check unload-client client_unload
check unload-prov prov_unload

# --- the core hands out another channel of the unbound device (get after
# unregister) while a holder keeps it alive; alloc_after_remove=1 lets it ---
base=$(released)
prov_load nchan=2 alloc_after_remove=1 && client_load
check_eq gau-held "$(client_chan request 0 mask)" dma0chan0
check gau-unbind unbind dmarw_prov.0
check_eq gau-request-after-unbind "$(client_chan request 1 mask)" dma0chan1
check_eq gau-slots "$(client_slots)" "0 dma0chan0
1 dma0chan1"
check gau-release-0 client release 0
check_eq gau-not-released "$(released)" "$base"
check gau-release-1 client release 1
check_eq gau-released "$(released)" $((base + 1))
check_fails gau-no-warning dmesg_has 'WARNING:|BUG:'
check gau-rebind bind dmarw_prov.0
check gau-unload-client client_unload
check gau-unload-prov prov_unload

# --- without device_release ---
base=$(released)
prov_load nchan=2 no_release=1 && client_load
check_eq nr-held "$(client_chan request 0 mask)" dma0chan0
check nr-unbind unbind dmarw_prov.0
check nr-kernel-warns dmesg_has '__dma_async_device_channel_unregister called while 1 clients hold a reference'
check_eq nr-sysfs-gone "$(in_use dma0chan0)" gone
check nr-release-after-unbind client release 0
check_eq nr-no-release-callback "$(released)" "$base"
check nr-rebind bind dmarw_prov.0
check nr-rebind-request client request 0 mask
check nr-rebind-release client release 0
check nr-unload-client client_unload
check nr-unload-prov prov_unload
check_eq nr-one-warning "$(dmesg_count 'WARNING:')" 1
finish
