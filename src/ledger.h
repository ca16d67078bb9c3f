/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A read of the reference ledger: the outstanding references the BPF side
 * keeps (bpf/dmarefwatch.h, struct dmarw_holder), decoded like events.  It
 * is one more engine input (engine__load_ledger()), like the startup
 * snapshot: live it comes from the map, in a recording from a "ledger"
 * line, in the unit tests from the test.
 */
#ifndef __DMARW_LEDGER_H
#define __DMARW_LEDGER_H

#include <stddef.h>
#include <stdint.h>
#include "event.h"

/* What the BPF side could not keep, summed over the hooks (hook_stats). */
struct ledger_losses {
	uint64_t ledger_full;		/* references not stored: ledger full */
	uint64_t stack_failed;		/* stacks that could not be taken */
	uint64_t map_failed;		/* other map updates that failed */
};

struct ledger {
	uint64_t ts_ns;			/* when it was read (monotonic) */
	size_t nr, cap;
	/*
	 * One per ledger entry, type DMARW_EV_DEV_HOLDER: ts_ns, pid, tgid,
	 * comm and frames are the get's; device/channel keys, ids and names;
	 * client, client_drv, client_key from the request; ledger_id;
	 * ledger_refs the references it holds.
	 */
	struct rw_event *entries;
};

struct ledger *ledger__new(void);
void ledger__free(struct ledger *l);
/* Copies @ev; 0 or -ENOMEM. */
int ledger__add(struct ledger *l, const struct rw_event *ev);

#endif /* __DMARW_LEDGER_H */
