// SPDX-License-Identifier: GPL-2.0
/*
 * dmarefwatch: the startup snapshot, a walk of the kernel's dma_device_list
 * run before the hooks are attached.  Linked into the one object with
 * bpf/dmarefwatch.bpf.c (bpftool gen object).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "dmarefwatch.h"
#include "record.bpf.h"

/*
 * ---- startup snapshot: walk dma_device_list ----
 *
 * Run through BPF_PROG_TEST_RUN before the hooks are attached.  Each run
 * emits one record: device number snap_dev when snap_chan is 0, else its
 * channel number snap_chan - 1; the cursor then moves on.  Short bounded
 * loops of pointer chasing keep the verifier's work small on every kernel.
 */
#define MAX_DEVICES_WALKED	64

__u64 dma_device_list_addr = 0;	/* &dma_device_list, kallsyms; set after the load */
__u32 snap_dev = 0;
__u32 snap_chan = 0;
__u32 snap_done = 0;

static __always_inline struct dma_device *nth_device(__u32 n)
{
	struct list_head *head = (void *)dma_device_list_addr, *pos = NULL;
	__u32 i;

	READ_KPTR_AT(pos, &head->next);
	for (i = 0; i < MAX_DEVICES_WALKED; i++) {
		if (!pos || pos == head)
			return NULL;
		if (i == n)
			return (void *)pos - bpf_core_field_offset(struct dma_device, global_node);
		READ_KPTR_AT(pos, &pos->next);
	}
	return NULL;
}

static __always_inline struct dma_chan *nth_channel(struct dma_device *device, __u32 n)
{
	struct list_head *head, *pos;
	__u32 i;

	head = (void *)device + bpf_core_field_offset(struct dma_device, channels);
	pos = READ_KPTR(device, channels.next);
	for (i = 0; i < MAX_CHANNELS_WALKED; i++) {
		if (!pos || pos == head)
			return NULL;
		if (i == n)
			return (void *)pos - bpf_core_field_offset(struct dma_chan, device_node);
		pos = READ_KPTR(pos, next);
	}
	return NULL;
}

SEC("raw_tp")
int snapshot_walk(void *ctx)
{
	struct dma_device *device;
	struct dmarw_event *ev;
	struct dma_chan *chan;
	char *name;

	if (!dma_device_list_addr || snap_done)
		return 0;
	device = nth_device(snap_dev);
	if (!device) {
		snap_done = 1;
		return 0;
	}
	if (!snap_chan) {
		ev = event_begin(ctx, DMARW_EV_SNAP_DEVICE, DMARW_HOOK_DEV_REGISTER,
				 device, NULL, NULL, EV_STACK_NONE);
		if (!ev)
			return 0;	/* ring buffer full: the caller drains, retries */
		ev->kref_after = read_kref(device, false);
		walk_channels(device, &ev->client_count_after, &ev->dev_in_use);
		/*
		 * Registration fails without channels, unregistration counts
		 * them down to 0 and leaves the device listed until its
		 * release; the driver may have unlinked the channels by then
		 * (bcm2835_dma_free() does).
		 */
		if (!BPF_CORE_READ(device, chancnt))
			ev->flags |= DMARW_F_UNREGISTERED;
		event_submit(ev);
		snap_chan = 1;
		return 0;
	}
	chan = nth_channel(device, snap_chan - 1);
	if (!chan) {
		snap_dev++;
		snap_chan = 0;
		return 0;
	}
	ev = event_begin(ctx, DMARW_EV_SNAP_CHAN, DMARW_HOOK_CHAN_GET, device, chan, NULL,
			 EV_STACK_NONE);
	if (!ev)
		return 0;
	ev->client_count_after = BPF_CORE_READ(chan, client_count);
	ev->kref_after = read_kref(device, false);
	ev->dev_name[0] = 0;
	if (bpf_core_field_exists(chan->dbg_client_name)) {
		name = READ_KPTR(chan, dbg_client_name);
		if (name)
			bpf_probe_read_kernel_str(ev->dev_name, sizeof(ev->dev_name), name);
	}
	event_submit(ev);
	snap_chan++;
	return 0;
}
