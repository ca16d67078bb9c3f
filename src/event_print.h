/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One event for people (`trace`) or machines (`trace --json`, the trace
 * file): a text line or a JSON object with every struct rw_event field.
 */
#ifndef __DMARW_EVENT_PRINT_H
#define __DMARW_EVENT_PRINT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "event.h"

struct json_writer;

/* Column header for event_print__text(). */
void event_print__header(FILE *f);
/*
 * "    1.203456 2 insmod    88/88  chan-get     dma0chan1 dmarw-prov.0
 *  cc 0->1 kref 1->2 ret 0  client_init+0x24 [dmarw_client]"
 * Times are relative to @t0_ns.  @stack: print the stack below the line.
 */
void event_print__text(FILE *f, const struct rw_event *ev, uint64_t t0_ns, bool stack);
/* A complete JSON object (one line in compact mode). */
void event_print__json(struct json_writer *jw, const struct rw_event *ev);
/* Just the members, into an object the caller opened. */
void event_print__json_fields(struct json_writer *jw, const struct rw_event *ev);
/* The "stack" array: [{"func","off","module"}...] */
void event_print__json_frames(struct json_writer *jw, const struct rw_frame *frames,
			      uint32_t nr);

#endif /* __DMARW_EVENT_PRINT_H */
