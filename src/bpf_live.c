// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The polling loop shared by the live commands; see live.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "bpf_session.h"
#include "cli.h"
#include "engine.h"
#include "live.h"
#include "snapshot.h"
#include "trace_file.h"

volatile sig_atomic_t live_exiting;
volatile sig_atomic_t live_hup;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		live_hup = 1;
	else
		live_exiting = 1;
}

void live_signals_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/*
 * A holder died (module unloaded, client unbound): read the kernel's
 * client_count now, from the channel map the get and put programs keep
 * (updated on every get and put, lost events included), and judge.
 */
static void live_verify(struct session *s, struct engine *e, struct trace_writer *tw)
{
	struct snapshot *state;
	uint64_t now;

	session__poll(s, 0);	/* the puts that came before it */
	session__read_ledger(s);
	state = session__kernel_state(s);
	now = now_mono_ns();
	engine__verify(e, now, state);
	if (tw && state)
		trace_writer__verify(tw, state, now);
	snapshot__free(state);
}

int live_loop(struct session *s, struct engine *e, struct trace_writer *tw,
	      long long duration_ns, int (*tick)(void *ctx, uint64_t now_ns), void *ctx)
{
	uint64_t start = now_mono_ns(), last_sync = start, now;
	int err;

	while (!live_exiting) {
		err = session__poll(s, 100);
		if (err == -EINTR)
			continue;
		if (err < 0) {
			p_err("reading events: %s", strerror(-err));
			return err;
		}
		now = now_mono_ns();
		if (engine__verify_wanted(e))
			live_verify(s, e, tw);
		if (now - last_sync >= 1000000000ULL) {
			live_sync(s, e, tw);
			last_sync = now;
		}
		if (tick && tick(ctx, now))
			break;
		if (duration_ns >= 0 && now - start >= (uint64_t)duration_ns)
			break;
	}
	/* what is already in the ring buffer still counts */
	session__poll(s, 0);
	return 0;
}

void live_print_lost(const struct engine *e)
{
	const struct engine_stats *st = engine__stats(e);

	if (st->lost)
		p_info("%llu events lost (ring buffer full); the final counts come "
		       "from the BPF maps and stay exact",
		       (unsigned long long)st->lost);
}

int live_start(struct session *s, struct engine *e, struct trace_writer *tw)
{
	const struct snapshot *snap = session__start_snapshot(s);
	uint64_t now = now_mono_ns();

	engine__load_snapshot(e, snap, now);
	if (tw && trace_writer__snapshot(tw, snap, now))
		return -EIO;
	return live_sync(s, e, tw);
}

int live_sync(struct session *s, struct engine *e, struct trace_writer *tw)
{
	uint64_t lost = session__sync(s);
	int h;

	if (!tw)
		return 0;
	for (h = 0; h < DMARW_HOOK_MAX; h++) {
		const struct engine_hook *hk = engine__hook(e, h);

		if (trace_writer__hook_counts(tw, h, hk))
			return -EIO;
	}
	if (lost && trace_writer__lost(tw, lost))
		return -EIO;
	return 0;
}

int live_finish(struct session *s, struct engine *e, struct trace_writer *tw)
{
	struct snapshot *final;
	uint64_t now;
	int err;

	err = live_sync(s, e, tw);
	final = session__kernel_state(s);
	if (!final)
		return -ENOMEM;
	now = now_mono_ns();
	engine__finish(e, now, final);
	if (tw && trace_writer__finish(tw, now, final))
		err = -EIO;
	snapshot__free(final);
	return err;
}

int live_service(struct dmarw_pin_owner *o, char *note, size_t len)
{
	const char *dir = pin__dir();
	char why[512];

	switch (pin__find(dir, o, why, sizeof(why))) {
	case PIN_FOUND_DENIED:
		p_err("%s", why);
		return -1;
	case PIN_FOUND_LIVE:
		pin_owner__describe(o, note, len);
		return 1;
	case PIN_FOUND_STALE:
		snprintf(note, len, "the service state in %s is stale (%s)", dir, why);
		return 0;
	case PIN_FOUND_FOREIGN:
		snprintf(note, len, "the service state in %s cannot be read (%s)", dir, why);
		return 0;
	case PIN_FOUND_NONE:
	default:
		snprintf(note, len, "no service running (%s)", why);
		return 0;
	}
}

int live_follow(struct session **out, struct engine *e, const struct dmarw_pin_owner *o,
		char *err, size_t errlen)
{
	int ret = session__open(out, e, false, NULL, NULL, err, errlen);

	if (!ret)
		ret = session__follow(*out, pin__dir(), o, err, errlen);
	if (ret) {
		session__close(*out);
		*out = NULL;
	}
	return ret;
}
