#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A double release: the kernel's WARN_ONCE "chan reference count 0 != 1"
# (declared as expected) and the channel count stays at 0.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
vm_main --expect-splat 'chan reference count 0 != 1' -- "$@"

prov_load nchan=2 || { fail load "insmod dmarw_prov"; finish; }
client_load || { fail load "insmod dmarw_client"; finish; }

check_fails no-warning-before dmesg_has 'chan reference count'
check_eq request "$(client_chan request 0 mask)" dma0chan0
check_eq in-use-1 "$(in_use dma0chan0)" 1
check release-twice client release-twice 0
check_eq in-use-0 "$(in_use dma0chan0)" 0
check warn-once dmesg_has 'chan reference count 0 != 1'
check warning-line dmesg_has 'WARNING: .* dma_release_channel'
check_match warn-from-client "$(dmesg | grep -A40 'chan reference count 0 != 1')" 'dmarw_client_release_twice'
check_eq refcnt "$(mod_refcnt dmarw_prov)" 0
# WARN_ONCE: a second double release in this boot is silent
client request 0 mask >/dev/null
check release-twice-again client release-twice 0
check_eq warn-only-once "$(dmesg_count 'chan reference count')" 1
check_eq in-use-0-again "$(in_use dma0chan0)" 0
check unload-client client_unload
check unload-prov prov_unload
finish
