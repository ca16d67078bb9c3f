/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Text report, in the spirit of kmemleak and ref_tracker: who holds what,
 * since when, from which stack; findings with the same kind, channel and
 * stack are grouped with a count.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "report.h"
#include "suppress.h"

void report_opts__init(struct report_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->fail_on = SEVERITY_ERROR;
	o->suite = "dmarefwatch";
}

static double rel_s(const struct engine *e, uint64_t ts)
{
	uint64_t t0 = engine__stats(e)->first_ts_ns;

	return ts >= t0 ? (double)(ts - t0) / 1e9 : -(double)(t0 - ts) / 1e9;
}

static void print_stack(FILE *f, const struct finding_holder *h, const char *indent)
{
	uint32_t i;

	if (!h->nr_frames) {
		fprintf(f, "%s(no stack)\n", indent);
		return;
	}
	for (i = 0; i < h->nr_frames && i < DMARW_MAX_STACK; i++) {
		const struct rw_frame *fr = &h->frames[i];

		fprintf(f, "%s%s+0x%x", indent, fr->func[0] ? fr->func : "?", fr->offset);
		if (fr->module[0])
			fprintf(f, " [%s]", fr->module);
		fputc('\n', f);
	}
}

static void print_who(FILE *f, const struct engine *e, const struct finding_holder *h)
{
	char cl[FINDING_CLIENT_STR_LEN];

	fprintf(f, "pid %u (%s)", h->pid, h->comm);
	if (h->function[0])
		fprintf(f, " in %s [%s]", h->function, h->module);
	fputs(finding_client_str(cl, sizeof(cl), h->client, h->client_drv), f);
	fprintf(f, " at %+.3fs", rel_s(e, h->ts_ns));
}

static const char *related_title(const char *what)
{
	if (!strcmp(what, "previous-release"))
		return "previous release";
	if (!strcmp(what, "unregister"))
		return "unregistered by";
	if (!strcmp(what, "release"))
		return "released by";
	return what[0] ? what : "related";
}

static void print_finding(FILE *f, const struct engine *e, const struct finding *fd,
			  bool verbose, unsigned int group)
{
	fprintf(f, "%s: %s: %s", finding_severity_name(fd->severity),
		finding_kind_name(fd->kind), fd->channel[0] ? fd->channel : fd->device);
	if (fd->dev_name[0] || fd->drv_name[0])
		fprintf(f, " (%s%s%s)", fd->dev_name, fd->dev_name[0] && fd->drv_name[0] ?
			", " : "", fd->drv_name);
	if (group > 1)
		fprintf(f, ", %u times from this stack", group);
	else if (fd->count > 1)
		fprintf(f, ", %u times", fd->count);
	if (fd->suppressed[0])
		fprintf(f, " [suppressed by %s]", fd->suppressed);
	fputc('\n', f);
	if (fd->holder.valid) {
		fprintf(f, "  %s: ", fd->kind == FINDING_LEAKED_REFERENCE ||
			fd->kind == FINDING_UNREGISTER_WITH_USERS ||
			fd->kind == FINDING_RELEASE_WITH_USERS ||
			fd->kind == FINDING_RELEASE_PENDING ? "holder" : "by");
		print_who(f, e, &fd->holder);
		if (fd->age_ns)
			fprintf(f, ", age %.3fs", (double)fd->age_ns / 1e9);
		if (fd->refs > 1)
			fprintf(f, ", %u references", fd->refs);
		fputc('\n', f);
	} else if (fd->kind == FINDING_LEAKED_REFERENCE) {
		/* references the reference ledger could not record */
		fprintf(f, "  holder: unknown (not recorded: the reference ledger was full)");
		if (fd->refs > 1)
			fprintf(f, ", %u references", fd->refs);
		fputc('\n', f);
	}
	fprintf(f, "  evidence: %s\n", fd->evidence);
	if (fd->holder.valid) {
		fprintf(f, "  backtrace:\n");
		print_stack(f, &fd->holder, "    ");
	}
	if (fd->related.valid) {
		fprintf(f, "  %s: ", related_title(fd->related_what));
		print_who(f, e, &fd->related);
		fputc('\n', f);
		if (verbose || fd->kind == FINDING_UNBALANCED_PUT)
			print_stack(f, &fd->related, "    ");
	}
	fputc('\n', f);
}

void report__text_finding(FILE *f, const struct engine *e, const struct finding *fd,
			  bool verbose)
{
	print_finding(f, e, fd, verbose, 1);
}

static bool same_stack(const struct finding_holder *a, const struct finding_holder *b)
{
	uint32_t i;

	if (a->valid != b->valid || a->nr_frames != b->nr_frames)
		return false;
	for (i = 0; i < a->nr_frames && i < DMARW_MAX_STACK; i++) {
		if (a->frames[i].offset != b->frames[i].offset ||
		    strcmp(a->frames[i].func, b->frames[i].func) ||
		    strcmp(a->frames[i].module, b->frames[i].module))
			return false;
	}
	return true;
}

static bool same_group(const struct finding *a, const struct finding *b)
{
	return a->kind == b->kind && !strcmp(a->channel, b->channel) &&
	       !strcmp(a->device, b->device) && !strcmp(a->suppressed, b->suppressed) &&
	       same_stack(&a->holder, &b->holder);
}

/* What the BPF side could not keep, per hook, when anything was lost. */
static void print_losses(FILE *f, const struct engine *e)
{
	static const char *const what[] = { "ledger full", "stack failed", "map update failed" };
	struct ledger_losses sum;
	uint64_t v[3];
	int h, k;

	engine__hook_losses(e, &sum);
	if (!sum.ledger_full && !sum.stack_failed && !sum.map_failed)
		return;
	fprintf(f, "lost in the kernel: %llu reference%s not recorded (ledger full: held by an "
		"unknown holder), %llu stack%s not taken, %llu map update%s failed:",
		(unsigned long long)sum.ledger_full, sum.ledger_full == 1 ? "" : "s",
		(unsigned long long)sum.stack_failed, sum.stack_failed == 1 ? "" : "s",
		(unsigned long long)sum.map_failed, sum.map_failed == 1 ? "" : "s");
	for (h = 0; h < DMARW_HOOK_MAX; h++) {
		const struct engine_hook *hk = engine__hook(e, (enum dmarw_hook)h);

		v[0] = hk->ledger_full;
		v[1] = hk->stack_failed;
		v[2] = hk->map_failed;
		for (k = 0; k < 3; k++)
			if (v[k])
				fprintf(f, " %s %s %llu", rw_hook_name((enum dmarw_hook)h), what[k],
					(unsigned long long)v[k]);
	}
	fputc('\n', f);
}

/* "  held by pid 12 (kworker/0:1) in dmarw_client_request [dmarw_client], age 3.2s" */
static void print_holders(FILE *f, const struct engine *e, size_t chan)
{
	const struct engine_stats *st = engine__stats(e);
	uint64_t now = st->finished ? st->finish_ts_ns : st->last_ts_ns;
	size_t j;

	for (j = 0; j < engine__nr_holders(e); j++) {
		const struct engine_holder *h = engine__holder(e, j);

		if (h->channel != chan)
			continue;
		fprintf(f, "  held by pid %u (%s) in %s%s%s%s, %u reference%s, age %.1fs\n",
			h->who.pid, h->who.comm, h->who.function[0] ? h->who.function : "?",
			h->who.module[0] ? " [" : "", h->who.module, h->who.module[0] ? "]" : "",
			h->refs, h->refs == 1 ? "" : "s",
			now > h->who.ts_ns ? (double)(now - h->who.ts_ns) / 1e9 : 0.0);
	}
}

int report__text(FILE *f, const struct engine *e, const struct report_opts *o)
{
	const struct engine_stats *st = engine__stats(e);
	size_t n = engine__nr_findings(e), i, j, nsev[3] = { 0 };
	size_t failing = engine__nr_failing(e, o->fail_on);
	size_t suppressed = engine__nr_suppressed(e);
	bool *done = NULL;
	int h;

	if (n) {
		done = calloc(n, sizeof(*done));
		if (!done)
			return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		nsev[engine__finding(e, i)->severity]++;

	if (!n)
		fprintf(f, "dmarefwatch: no findings\n\n");
	else
		fprintf(f, "dmarefwatch: %zu finding%s\n\n", n, n == 1 ? "" : "s");

	/* failing first, then the rest; grouped by kind+channel+stack */
	for (int pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			const struct finding *fd = engine__finding(e, i);
			unsigned int group = 0;

			if (done[i] || finding__fails(fd, o->fail_on) != (pass == 0))
				continue;
			for (j = i; j < n; j++) {
				const struct finding *o2 = engine__finding(e, j);

				if (!done[j] && same_group(fd, o2) &&
				    finding__fails(o2, o->fail_on) == (pass == 0)) {
					done[j] = true;
					group += o2->count;
				}
			}
			print_finding(f, e, fd, o->verbose, group);
		}
	}
	free(done);

	if (o->verbose) {
		if (o->holders_from)
			fprintf(f, "holders from: %s\n", o->holders_from);
		for (i = 0; i < engine__nr_channels(e); i++) {
			const struct engine_channel *c = engine__channel(e, i);

			if (c->client_count <= 0 && !c->held)
				continue;
			fprintf(f, "in use: %s client_count %d, %u held by traced gets, "
				"%u predating tracing", c->name, c->client_count, c->held,
				c->predating);
			if (c->unknown)
				fprintf(f, ", %u held by an unknown holder (ledger full)",
					c->unknown);
			fprintf(f, "%s%s\n", c->client_name[0] ? ", client " : "", c->client_name);
			print_holders(f, e, i);
		}
		for (i = 0; i < engine__nr_devices(e); i++) {
			const struct engine_device *d = engine__device(e, i);

			fprintf(f, "device: %s %s%s%s kref %d %s, device_release %s\n", d->name,
				d->dev_name, d->drv_name[0] ? " " : "", d->drv_name, d->kref,
				engine_dev_state_name(d->state),
				d->has_release < 0 ? "unknown" : d->has_release ? "set" : "unset");
		}
	}

	fprintf(f, "summary: %zu finding%s (%zu error%s, %zu warning%s, %zu info), "
		"%zu failing at --fail-on %s, %zu suppressed; %llu events, %llu lost; "
		"%llu reference%s predating tracing\n", n, n == 1 ? "" : "s",
		nsev[SEVERITY_ERROR], nsev[SEVERITY_ERROR] == 1 ? "" : "s",
		nsev[SEVERITY_WARNING], nsev[SEVERITY_WARNING] == 1 ? "" : "s",
		nsev[SEVERITY_INFO], failing, finding_severity_name(o->fail_on), suppressed,
		(unsigned long long)st->events, (unsigned long long)st->lost,
		(unsigned long long)st->predating, st->predating == 1 ? "" : "s");
	if (st->alloc_failures)
		fprintf(f, "incomplete: %llu allocation failure%s: a device, channel, holder or "
			"finding was dropped\n", (unsigned long long)st->alloc_failures,
			st->alloc_failures == 1 ? "" : "s");
	print_losses(f, e);
	fprintf(f, "hooks:");
	for (h = 0; h < DMARW_HOOK_MAX; h++) {
		const struct engine_hook *hk = engine__hook(e, (enum dmarw_hook)h);

		if (hk->mode != RW_HOOK_UNSET)
			fprintf(f, " %s=%s", rw_hook_name((enum dmarw_hook)h),
				rw_hook_mode_name(hk->mode));
	}
	fputc('\n', f);
	if (o->supp) {
		for (i = 0; i < suppress__count(o->supp); i++)
			fprintf(f, "suppression %s: used %llu time%s\n", suppress__name(o->supp, i),
				(unsigned long long)suppress__used(o->supp, i),
				suppress__used(o->supp, i) == 1 ? "" : "s");
	}
	return ferror(f) ? -EIO : 0;
}
