/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the engine scenario tests (tests/unit/test_engine*.c) share. */
#ifndef __DMARW_ENGINE_SCENARIOS_H
#define __DMARW_ENGINE_SCENARIOS_H

#include <errno.h>
#include <stdlib.h>
#include "harness.h"
#include "helpers.h"
#include "snapshot.h"
#include "suppress.h"

#define MS	1000000ull
#define S	1000000000ull

static inline void feed(struct engine *e, struct rw_event ev)
{
	engine__feed(e, &ev);
}

/* request + release of dma0chan1 by one client */
static inline void request_release(struct engine *e, uint64_t t)
{
	feed(e, ev_get(t, 0, 1, 0, 1));
	feed(e, ev_release(t + MS, 0, 1, 1));
	feed(e, ev_put(t + MS + 1, 0, 1, 1, 0));
}

#define CHECK_SANE(e) do {						\
		const char *why_ = findings_sane(e);			\
		CHECK(!why_, "%s", why_);				\
	} while (0)

#endif /* __DMARW_ENGINE_SCENARIOS_H */
