/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * rw_event constructors for the engine tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "helpers.h"
#include "ledger.h"

static void frame(struct rw_frame *f, const char *func, uint32_t off, const char *module)
{
	snprintf(f->func, sizeof(f->func), "%s", func);
	f->offset = off;
	snprintf(f->module, sizeof(f->module), "%s", module);
}

/* dmaengine frames for each kind of event, innermost first */
static const char *const *core_frames(enum dmarw_event_type type)
{
	static const char *const get[] = { "dma_chan_get", "find_candidate",
					   "__dma_request_channel", NULL };
	static const char *const put[] = { "dma_chan_put", "dma_release_channel", NULL };
	static const char *const rel[] = { "dma_release_channel", NULL };
	static const char *const reg[] = { "dma_async_device_register", NULL };
	static const char *const unreg[] = { "dma_async_device_unregister", NULL };
	static const char *const none[] = { NULL };

	switch (type) {
	case DMARW_EV_CHAN_GET:			return get;
	case DMARW_EV_CHAN_PUT:			return put;
	case DMARW_EV_RELEASE_CHANNEL:		return rel;
	case DMARW_EV_DEV_REGISTER:		return reg;
	case DMARW_EV_DEV_UNREGISTER_BEGIN:
	case DMARW_EV_DEV_UNREGISTER_END:	return unreg;
	default:				return none;
	}
}

void ev_caller(struct rw_event *ev, const char *func, const char *module)
{
	const char *const *core = core_frames(ev->type);
	uint32_t n = 0;

	/* the tracing glue sits on top of a real stack */
	frame(&ev->frames[n++], "bpf_trampoline_6442", 0x40, "bpf");
	for (; *core; core++) {
		frame(&ev->frames[n], *core, 0x20 + n, "");
		n++;
	}
	frame(&ev->frames[n++], func, 0x24, module);
	frame(&ev->frames[n++], "do_one_initcall", 0x5c, "");
	frame(&ev->frames[n++], "do_init_module", 0x60, "");
	ev->nr_frames = n;
}

struct rw_event ev_make(enum dmarw_event_type type, uint64_t ts, int dev, int chan)
{
	struct rw_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.ts_ns = ts;
	ev.cpu = 1;
	ev.pid = 200;
	ev.tgid = 200;
	snprintf(ev.comm, sizeof(ev.comm), "insmod");
	ev.device_key = dev >= 0 ? DEV_KEY(dev) : 0;
	ev.chan_key = chan >= 0 ? CHAN_KEY(dev, chan) : 0;
	ev.dev_id = dev;
	ev.chan_id = chan;
	snprintf(ev.dev_name, sizeof(ev.dev_name), "dmarw-prov.%d", dev);
	snprintf(ev.drv_name, sizeof(ev.drv_name), "dmarw_prov");
	ev.client_count_before = -1;
	ev.client_count_after = -1;
	ev.kref_before = -1;
	ev.kref_after = -1;
	ev.dev_in_use = -1;
	switch (type) {
	case DMARW_EV_CHAN_GET:			ev.hook = DMARW_HOOK_CHAN_GET; break;
	case DMARW_EV_CHAN_PUT:			ev.hook = DMARW_HOOK_CHAN_PUT; break;
	case DMARW_EV_DEV_REGISTER:		ev.hook = DMARW_HOOK_DEV_REGISTER; break;
	case DMARW_EV_DEV_UNREGISTER_BEGIN:
	case DMARW_EV_DEV_UNREGISTER_END:	ev.hook = DMARW_HOOK_DEV_UNREGISTER; break;
	case DMARW_EV_DEV_RELEASE:		ev.hook = DMARW_HOOK_DEV_RELEASE; break;
	case DMARW_EV_RELEASE_CHANNEL:		ev.hook = DMARW_HOOK_RELEASE_CHANNEL; break;
	case DMARW_EV_REQUEST_CHAN:		ev.hook = DMARW_HOOK_REQUEST_CHAN; break;
	case DMARW_EV_DMAENGINE_GET:		ev.hook = DMARW_HOOK_DMAENGINE_GET; break;
	case DMARW_EV_DMAENGINE_PUT:		ev.hook = DMARW_HOOK_DMAENGINE_PUT; break;
	default: break;
	}
	if (type == DMARW_EV_DEV_REGISTER || type == DMARW_EV_DEV_UNREGISTER_BEGIN ||
	    type == DMARW_EV_DEV_UNREGISTER_END)
		ev_caller(&ev, "dmarw_prov_probe", "dmarw_prov");
	else
		ev_caller(&ev, "client_probe", "dmarw_client");
	return ev;
}

struct rw_event ev_get(uint64_t ts, int dev, int chan, int ccb, int cca)
{
	struct rw_event ev = ev_make(DMARW_EV_CHAN_GET, ts, dev, chan);

	ev.client_count_before = ccb;
	ev.client_count_after = cca;
	return ev;
}

struct rw_event ev_put(uint64_t ts, int dev, int chan, int ccb, int cca)
{
	struct rw_event ev = ev_make(DMARW_EV_CHAN_PUT, ts, dev, chan);

	ev.client_count_before = ccb;
	ev.client_count_after = cca;
	return ev;
}

struct rw_event ev_release(uint64_t ts, int dev, int chan, int ccb)
{
	struct rw_event ev = ev_make(DMARW_EV_RELEASE_CHANNEL, ts, dev, chan);

	ev.client_count_before = ccb;
	return ev;
}

struct rw_event ev_register(uint64_t ts, int dev, bool release_cb)
{
	struct rw_event ev = ev_make(DMARW_EV_DEV_REGISTER, ts, dev, -1);

	ev.flags = DMARW_F_RELEASE_FIELD | (release_cb ? DMARW_F_HAS_RELEASE : 0) |
		   DMARW_F_PRIVATE;
	return ev;
}

struct rw_event ev_unreg_begin(uint64_t ts, int dev, int users_sum, int chans_in_use)
{
	struct rw_event ev = ev_make(DMARW_EV_DEV_UNREGISTER_BEGIN, ts, dev, -1);

	ev_caller(&ev, "dmarw_prov_remove", "dmarw_prov");
	ev_task(&ev, 300, "rmmod");
	ev.client_count_before = users_sum;
	ev.dev_in_use = chans_in_use;
	return ev;
}

struct rw_event ev_unreg_end(uint64_t ts, int dev)
{
	struct rw_event ev = ev_make(DMARW_EV_DEV_UNREGISTER_END, ts, dev, -1);

	ev_caller(&ev, "dmarw_prov_remove", "dmarw_prov");
	ev_task(&ev, 300, "rmmod");
	return ev;
}

struct rw_event ev_dev_release(uint64_t ts, int dev, int users_sum)
{
	struct rw_event ev = ev_make(DMARW_EV_DEV_RELEASE, ts, dev, -1);

	ev.client_count_before = users_sum;
	ev.dev_in_use = -1;
	return ev;
}

void ev_task(struct rw_event *ev, uint32_t pid, const char *comm)
{
	ev->pid = pid;
	ev->tgid = pid;
	snprintf(ev->comm, sizeof(ev->comm), "%s", comm);
}

void ev_kref(struct rw_event *ev, int before, int after)
{
	ev->flags |= DMARW_F_KREF_VALID;
	ev->kref_before = before;
	ev->kref_after = after;
}

size_t count_kind(const struct engine *e, enum finding_kind kind)
{
	size_t i, n = 0;

	for (i = 0; i < engine__nr_findings(e); i++)
		if (engine__finding(e, i)->kind == kind)
			n++;
	return n;
}

const struct finding *find_kind(const struct engine *e, enum finding_kind kind)
{
	size_t i;

	for (i = 0; i < engine__nr_findings(e); i++)
		if (engine__finding(e, i)->kind == kind)
			return engine__finding(e, i);
	return NULL;
}

const char *findings_sane(const struct engine *e)
{
	static char msg[256];
	size_t i;

	for (i = 0; i < engine__nr_findings(e); i++) {
		const struct finding *f = engine__finding(e, i);

		if (!f->evidence[0] || f->severity != finding_kind_severity(f->kind) ||
		    !f->device[0] || f->count < 1) {
			snprintf(msg, sizeof(msg), "finding %zu (%s) lacks evidence/device/"
				 "severity", i, finding_kind_name(f->kind));
			return msg;
		}
	}
	return NULL;
}

void tmp_path(char *buf, size_t len, const char *tag)
{
	static int seq;
	const char *dir = getenv("TMPDIR");

	snprintf(buf, len, "%s/dmarw-unit-%d-%s-%d", dir && *dir ? dir : "/tmp",
		 (int)getpid(), tag, seq++);
}

int write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");
	int ret = 0;

	if (!f)
		return -1;
	if (len && fwrite(data, 1, len, f) != len)
		ret = -1;
	if (fclose(f))
		ret = -1;
	return ret;
}

struct rw_event ev_ledger_entry(uint64_t id, uint64_t ts, int dev, int chan, uint32_t refs)
{
	struct rw_event ev = ev_get(ts, dev, chan, -1, -1);

	ev.type = DMARW_EV_DEV_HOLDER;
	ev.ledger_id = id;
	ev.ledger_refs = refs;
	return ev;
}

struct ledger *ledger_of(uint64_t now, const struct rw_event *ents, size_t n)
{
	struct ledger *l = ledger__new();
	size_t i;

	if (!l)
		abort();
	l->ts_ns = now;
	for (i = 0; i < n; i++)
		if (ledger__add(l, &ents[i]))
			abort();
	return l;
}
