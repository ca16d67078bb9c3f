// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A read of the BPF reference ledger: a growing array of DEV_HOLDER-typed
 * events.  See ledger.h.
 */
#include <errno.h>
#include <stdlib.h>
#include "ledger.h"

struct ledger *ledger__new(void)
{
	return calloc(1, sizeof(struct ledger));
}

void ledger__free(struct ledger *l)
{
	if (!l)
		return;
	free(l->entries);
	free(l);
}

int ledger__add(struct ledger *l, const struct rw_event *ev)
{
	if (l->nr == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		struct rw_event *n;

		if (ncap > SIZE_MAX / sizeof(*n))
			return -ENOMEM;
		n = realloc(l->entries, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		l->entries = n;
		l->cap = ncap;
	}
	l->entries[l->nr] = *ev;
	l->entries[l->nr].type = DMARW_EV_DEV_HOLDER;
	l->nr++;
	return 0;
}
