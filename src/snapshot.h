/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel state at one moment: devices and channels with their reference
 * counts.  Taken at startup (references that predate tracing) and at the
 * end of a run (the BPF maps: exact even when events were lost).
 */
#ifndef __DMARW_SNAPSHOT_H
#define __DMARW_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "event.h"

#define SNAPSHOT_SOURCE_LEN	16

struct snapshot_device {
	uint64_t device_key;		/* opaque, 0 unknown (sysfs) */
	int32_t dev_id;
	char dev_name[DMARW_NAME_LEN];
	char drv_name[DMARW_NAME_LEN];
	int32_t kref;			/* -1 unknown */
	int32_t has_release;		/* -1 unknown, 0, 1 */
	uint32_t state;			/* enum dmarw_dev_phase */
};

struct snapshot_channel {
	uint64_t chan_key;		/* opaque, 0 unknown (sysfs) */
	uint64_t device_key;		/* 0 unknown */
	int32_t dev_id;
	int32_t chan_id;
	int32_t client_count;		/* -1 unknown */
	char client_name[DMARW_NAME_LEN]; /* "" unknown */
	/* references whose get found the reference ledger full (channel map) */
	uint32_t unrecorded;
};

struct snapshot {
	char source[SNAPSHOT_SOURCE_LEN]; /* "sysfs" or "bpf" */
	size_t nr_devices;
	size_t nr_channels;
	struct snapshot_device *devices;
	struct snapshot_channel *channels;
	size_t cap_devices;
	size_t cap_channels;
};

struct snapshot *snapshot__new(const char *source);
void snapshot__free(struct snapshot *snap);
/* Both copy the entry; return 0 or -ENOMEM. */
int snapshot__add_device(struct snapshot *snap, const struct snapshot_device *dev);
int snapshot__add_channel(struct snapshot *snap, const struct snapshot_channel *chan);
struct snapshot_device *snapshot__find_device(struct snapshot *snap, int32_t dev_id);

/*
 * Read <root>/sys/class/dma/dma*chan* (in_use, device, device/driver) into
 * @snap: one channel per entry with client_count = in_use, one device per
 * dev_id (state registered, kref and has_release unknown).  Then, with
 * @summary and when it exists, <root>/sys/kernel/debug/dmaengine/summary for
 * client names.  The live tool passes false: after a driver unbinds a
 * controller that has no device_release (bcm2835-dma), reading the summary
 * oopses 6.1 and 6.12 kernels (the freed device is still listed).
 * @root is "/" on a live system, a fake tree in tests.
 * Returns 0, or -errno with a message in @err.
 */
int snapshot__read_sysfs(struct snapshot *snap, const char *root, bool summary,
			 char *err, size_t errlen);
/* Parse a debugfs dmaengine/summary text into client_name of @snap's channels. */
int snapshot__parse_summary(struct snapshot *snap, const char *text);

#endif /* __DMARW_SNAPSHOT_H */
