/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The top screen model and layout without a terminal: what a frame shows
 * for a held channel, a leak and an unregister with users; the keys
 * (move, Enter for the stack, filter, sort, pause, quit); 80x24, resize,
 * tiny terminals and batch frames.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include "harness.h"
#include "helpers.h"
#include "top_model.h"
#include "top_screen.h"

#define S	1000000000ull

static void feed(struct engine *e, struct rw_event ev)
{
	engine__feed(e, &ev);
}

/*
 * dma0 (with device_release) and dma1 (without); dma0chan1 taken at 1s by
 * pid 412 (bash) from dmarw_client_request_by_mask [dmarw_client]; then dma0
 * unregistered at 3s while held.
 */
static struct engine *scenario(bool unregister)
{
	struct engine *e = engine__new();
	struct rw_event ev;

	feed(e, ev_register(S / 2, 0, true));
	ev = ev_register(S / 2 + 1, 1, false);
	snprintf(ev.drv_name, sizeof(ev.drv_name), "other_dma");
	snprintf(ev.dev_name, sizeof(ev.dev_name), "other.1");
	feed(e, ev);
	ev = ev_get(S, 0, 1, 0, 1);
	ev_task(&ev, 412, "bash");
	ev_caller(&ev, "dmarw_client_request_by_mask", "dmarw_client");
	ev_kref(&ev, 1, 2);
	feed(e, ev);
	if (unregister) {
		feed(e, ev_unreg_begin(3 * S, 0, 1, 1));
		feed(e, ev_unreg_end(3 * S + 10, 0));
	}
	engine__set_hook(e, DMARW_HOOK_CHAN_GET, RW_HOOK_FENTRY, 1, 0);
	engine__set_hook(e, DMARW_HOOK_CHAN_PUT, RW_HOOK_FENTRY, 0, 0);
	engine__set_hook(e, DMARW_HOOK_DEV_RELEASE, RW_HOOK_KPROBE, 0, 0);
	engine__set_hook(e, DMARW_HOOK_DMAENGINE_GET, RW_HOOK_UNAVAILABLE, 0, 0);
	return e;
}

/* The frame as one string, lines joined with '\n'. */
static char *frame_text(const struct top_frame *fr)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	top_frame__print(f, fr);
	fclose(f);
	return buf;
}

static int line_with(const struct top_frame *fr, const char *s)
{
	size_t i;

	for (i = 0; i < fr->nr; i++)
		if (strstr(fr->lines[i].text, s))
			return (int)i;
	return -1;
}

static int selected_line(const struct top_frame *fr)
{
	size_t i;

	for (i = 0; i < fr->nr; i++)
		if (fr->lines[i].selected)
			return (int)i;
	return -1;
}

/* exactly @rows lines, none longer than @cols, the '>' on the selected one */
static const char *frame_fits(const struct top_frame *fr, int rows, int cols)
{
	static char why[128];
	size_t i;

	if ((int)fr->nr != rows) {
		snprintf(why, sizeof(why), "%zu lines, want %d", fr->nr, rows);
		return why;
	}
	for (i = 0; i < fr->nr; i++) {
		if ((int)strlen(fr->lines[i].text) > cols) {
			snprintf(why, sizeof(why), "line %zu is %zu long", i,
				 strlen(fr->lines[i].text));
			return why;
		}
		if (fr->lines[i].selected != (fr->lines[i].text[0] == '>')) {
			snprintf(why, sizeof(why), "line %zu: marker and selection differ", i);
			return why;
		}
	}
	return NULL;
}

/* press @key until the selected line contains @s (at most 30 times) */
static bool select_line(struct top_model *m, struct top_screen *sc, struct top_frame *fr,
			int key, const char *s)
{
	int i;

	for (i = 0; i < 30; i++) {
		top_screen__layout(sc, m, 24, 80, fr);
		if (selected_line(fr) >= 0 && strstr(fr->lines[selected_line(fr)].text, s))
			return true;
		top_model__key(m, key);
	}
	return false;
}

TEST(top_frame_shows_device_channel_holder_findings)
{
	struct engine *e = scenario(true);
	struct top_model *m = top_model__new("6.1.0-test", S, 10 * S);
	struct top_screen sc = { { 0 } };
	struct top_frame fr = { 0 };
	const char *why;
	char *text = NULL;
	int dev, chan, holder, find;

	setenv("TZ", "UTC", 1);
	tzset();
	CHECK(e && m, "alloc");
	top_model__update(m, e, 5 * S, 1700000000);
	CHECK_INT(top_screen__layout(&sc, m, 24, 80, &fr), 0);
	why = frame_fits(&fr, 24, 80);
	text = frame_text(&fr);
	CHECK(!why, "%s\n%s", why, text);
	CHECK(strstr(fr.lines[0].text, "dmarefwatch top") &&
	      strstr(fr.lines[0].text, "6.1.0-test"), "title: %s", fr.lines[0].text);
	dev = line_with(&fr, "dmarw-prov.0");
	CHECK(dev > 0, "no device row:\n%s", text);
	CHECK(strstr(fr.lines[dev].text, "dma0") && strstr(fr.lines[dev].text, "unregistered") &&
	      strstr(fr.lines[dev].text, "dmarw_prov") && strstr(fr.lines[dev].text, " yes"),
	      "device row: %s", fr.lines[dev].text);
	CHECK(line_with(&fr, "other.1") > 0 && strstr(fr.lines[line_with(&fr, "other.1")].text,
						   " NO"), "device without release:\n%s", text);
	chan = line_with(&fr, "dma0chan1");
	CHECK(chan > dev && strstr(fr.lines[chan].text, "clients 1"), "channel row:\n%s", text);
	holder = line_with(&fr, "bash[412]");
	CHECK(holder == chan + 1, "holder row under the channel:\n%s", text);
	CHECK(strstr(fr.lines[holder].text, "dmarw_client_request_by_mask [dmarw_client]") &&
	      strstr(fr.lines[holder].text, "age 4s"), "holder row: %s", fr.lines[holder].text);
	find = line_with(&fr, "unregister-with-users");
	CHECK(find > holder && fr.lines[find].attr == TOP_A_ERROR, "finding row:\n%s", text);
	CHECK(strstr(fr.lines[find].text, "22:13:18 error"), "finding time: %s",
	      fr.lines[find].text);
	CHECK(line_with(&fr, "missing-release-callback") > find, "older finding below");
	CHECK(fr.lines[line_with(&fr, "missing-release-callback")].attr == TOP_A_WARNING,
	      "warning colour");
	/* the status line: events, lost, each hook's mode */
	CHECK(strstr(fr.lines[22].text, "events ") && strstr(fr.lines[22].text, "lost 0") &&
	      strstr(fr.lines[22].text, "fentry 2") &&
	      strstr(fr.lines[22].text, "kprobe dma_device_release") &&
	      strstr(fr.lines[22].text, "n/a dmaengine_get"),
	      "status: %s", fr.lines[22].text);
	CHECK(strstr(fr.lines[23].text, "q quit"), "help: %s", fr.lines[23].text);
	/* at 4s with --min-age 10s nothing; at 12s long-held, not an error */
	CHECK(!strstr(fr.lines[holder].text, "LEAKED") &&
	      !strstr(fr.lines[holder].text, "long-held"), "marked too early");
	engine__scan(e, 12 * S, 10 * S);
	top_model__update(m, e, 12 * S, 1700000007);
	top_screen__layout(&sc, m, 24, 80, &fr);
	holder = line_with(&fr, "bash[412]");
	CHECK(holder > 0 && strstr(fr.lines[holder].text, "long-held") &&
	      fr.lines[holder].attr == TOP_A_NORMAL, "long-held: %s", fr.lines[holder].text);
	CHECK(line_with(&fr, "long-held-reference") > 0, "long-held finding");
	CHECK(line_with(&fr, "leaked-reference") < 0, "age made a leak");
	CHECK(line_with(&fr, "long-held-reference") < line_with(&fr, "unregister-with-users"),
	      "newest first");
out:
	free(text);
	top_frame__free(&fr);
	top_model__free(m);
	engine__free(e);
}

TEST(top_keys_move_expand_stack_and_quit)
{
	struct engine *e = scenario(false);
	struct top_model *m = top_model__new("k", S, 10 * S);
	struct top_screen sc = { { 0 } };
	struct top_frame fr = { 0 };
	int holder, n1, n2;

	CHECK(e && m, "alloc");
	top_model__update(m, e, 2 * S, 1700000000);
	top_screen__layout(&sc, m, 24, 80, &fr);
	CHECK(selected_line(&fr) >= 0 && strstr(fr.lines[selected_line(&fr)].text, "dma0 "),
	      "cursor starts on the first device");
	CHECK(select_line(m, &sc, &fr, 'j', "bash[412]"), "j reaches the holder");
	holder = selected_line(&fr);
	n1 = line_with(&fr, "dma_chan_get+0x");
	CHECK(n1 < 0, "stack shown before Enter");
	CHECK_INT(top_model__key(m, TOP_KEY_ENTER), TOP_ACT_REDRAW);
	top_screen__layout(&sc, m, 24, 80, &fr);
	n1 = line_with(&fr, "dma_chan_get+0x");
	n2 = line_with(&fr, "dmarw_client_request_by_mask+0x24 [dmarw_client]");
	CHECK(n1 == holder + 2 && n2 > n1, "stack under the holder: %d %d (holder %d)",
	      n1, n2, holder);
	CHECK(fr.lines[n1].attr == TOP_A_DIM && !fr.lines[n1].selected, "stack rows plain");
	CHECK_INT(selected_line(&fr), holder);
	/* Enter again hides it */
	top_model__key(m, TOP_KEY_ENTER);
	top_screen__layout(&sc, m, 24, 80, &fr);
	CHECK(line_with(&fr, "dma_chan_get+0x") < 0, "stack still shown");
	/* the cursor stays on the holder across refreshes */
	top_model__update(m, e, 3 * S, 1700000001);
	top_screen__layout(&sc, m, 24, 80, &fr);
	CHECK(strstr(fr.lines[selected_line(&fr)].text, "bash[412]"), "cursor moved");
	/* k goes back up, into the findings with j, Enter shows the evidence */
	CHECK(select_line(m, &sc, &fr, TOP_KEY_UP, "dmarw-prov.0"), "k reaches the device");
	CHECK(select_line(m, &sc, &fr, TOP_KEY_DOWN, "missing-release-callback"),
	      "down reaches the findings");
	top_model__key(m, TOP_KEY_ENTER);
	top_screen__layout(&sc, m, 24, 80, &fr);
	CHECK(line_with(&fr, "device_release unset") > selected_line(&fr), "evidence shown");
	CHECK(!frame_fits(&fr, 24, 80), "%s", frame_fits(&fr, 24, 80));
	/* Enter on a device folds its channels */
	CHECK(select_line(m, &sc, &fr, 'k', "dmarw-prov.0"), "back to the device");
	top_model__key(m, TOP_KEY_ENTER);
	top_screen__layout(&sc, m, 24, 80, &fr);
	CHECK(line_with(&fr, "dma0chan1") < 0 && line_with(&fr, "[+]") > 0, "folded");
	CHECK_INT(top_model__key(m, 'x'), TOP_ACT_NONE);
	CHECK_INT(top_model__key(m, 'q'), TOP_ACT_QUIT);
out:
	top_frame__free(&fr);
	top_model__free(m);
	engine__free(e);
}

TEST(top_filter_sort_pause)
{
	struct engine *e = scenario(false);
	struct top_model *m = top_model__new("k", S, 10 * S);
	struct top_screen sc = { { 0 } };
	struct top_frame fr = { 0 };
	const char *p;
	struct rw_event ev;

	CHECK(e && m, "alloc");
	top_model__update(m, e, 2 * S, 1700000000);
	/* / types a filter into the prompt; Enter applies it */
	top_model__key(m, '/');
	for (p = "other"; *p; p++)
		top_model__key(m, *p);
	top_screen__layout(&sc, m, 24, 80, &fr);
	CHECK(strstr(fr.lines[23].text, "filter by device") && strstr(fr.lines[23].text, "other_"),
	      "prompt: %s", fr.lines[23].text);
	CHECK_INT(top_model__key(m, 'q'), TOP_ACT_REDRAW);	/* typed, not quit */
	top_model__key(m, TOP_KEY_BACKSPACE);
	top_model__key(m, TOP_KEY_ENTER);
	CHECK_STR(top_model__filter(m), "other");
	top_screen__layout(&sc, m, 24, 80, &fr);
	CHECK(line_with(&fr, "other.1") > 0 && line_with(&fr, "dmarw-prov.0") < 0,
	      "filter by driver name");
	CHECK(strstr(fr.lines[0].text, "filter other"), "title shows the filter");
	/* a glob over device names; Esc clears */
	top_model__key(m, '/');
	for (p = "\b\b\b\b\b"; *p; p++)
		top_model__key(m, TOP_KEY_BACKSPACE);
	for (p = "dma[0]"; *p; p++)
		top_model__key(m, *p);
	top_model__key(m, TOP_KEY_ENTER);
	top_screen__layout(&sc, m, 24, 80, &fr);
	CHECK(line_with(&fr, "other.1") < 0 && line_with(&fr, "dmarw-prov.0") > 0, "glob");
	top_model__key(m, TOP_KEY_ESC);
	CHECK_STR(top_model__filter(m), "");
	/* s: device -> clients (dma0 with a user first) -> age -> device */
	CHECK_INT(top_model__sort(m), TOP_SORT_DEVICE);
	top_model__key(m, 's');
	CHECK_INT(top_model__sort(m), TOP_SORT_CLIENTS);
	top_screen__layout(&sc, m, 24, 80, &fr);
	CHECK(line_with(&fr, "dmarw-prov.0") < line_with(&fr, "other.1"), "clients sort");
	CHECK(strstr(fr.lines[0].text, "sort clients"), "title shows the sort");
	top_model__key(m, 's');
	top_model__key(m, 's');
	CHECK_INT(top_model__sort(m), TOP_SORT_DEVICE);
	/* p freezes the view while the engine goes on */
	top_model__key(m, 'p');
	ev = ev_put(3 * S, 0, 1, 1, 0);
	feed(e, ev);
	top_model__update(m, e, 3 * S, 1700000001);
	top_screen__layout(&sc, m, 24, 80, &fr);
	CHECK(line_with(&fr, "bash[412]") > 0 && strstr(fr.lines[0].text, "PAUSED"),
	      "paused view changed");
	top_model__key(m, 'p');
	top_model__update(m, e, 3 * S, 1700000001);
	top_screen__layout(&sc, m, 24, 80, &fr);
	CHECK(line_with(&fr, "bash[412]") < 0, "resumed view is stale");
out:
	top_frame__free(&fr);
	top_model__free(m);
	engine__free(e);
}

TEST(top_sizes_resize_and_batch)
{
	struct engine *e = scenario(true);
	struct top_model *m = top_model__new("k", S, 10 * S);
	struct top_screen sc = { { 0 } };
	struct top_frame fr = { 0 };
	static const int sizes[][2] = { { 24, 80 }, { 50, 200 }, { 8, 30 }, { 12, 40 },
					{ 24, 80 } };
	char *text = NULL;
	size_t i;
	int k;

	CHECK(e && m, "alloc");
	/* many findings: the findings pane scrolls, the devices pane keeps its rows */
	for (k = 0; k < 40; k++) {
		struct rw_event ev = ev_put(4 * S + k, 1, k % 4, 0, 0);

		ev_caller(&ev, k % 2 ? "bad_stop" : "worse_stop", "buggy");
		feed(e, ev);
	}
	engine__scan(e, 20 * S, 10 * S);
	top_model__update(m, e, 20 * S, 1700000000);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const char *why;

		CHECK_INT(top_screen__layout(&sc, m, sizes[i][0], sizes[i][1], &fr), 0);
		why = frame_fits(&fr, sizes[i][0], sizes[i][1]);
		CHECK(!why, "%dx%d: %s", sizes[i][1], sizes[i][0], why);
		CHECK(strstr(fr.lines[0].text, "dmarefwatch"), "%dx%d title", sizes[i][1],
		      sizes[i][0]);
		CHECK(strstr(fr.lines[fr.nr - 2].text, "events"), "%dx%d status: %s",
		      sizes[i][1], sizes[i][0], fr.lines[fr.nr - 2].text);
		CHECK(line_with(&fr, "dmarw-prov.0") > 0, "%dx%d device", sizes[i][1],
		      sizes[i][0]);
		CHECK(line_with(&fr, "-- findings") > 0, "%dx%d findings pane", sizes[i][1],
		      sizes[i][0]);
	}
	/* End moves to the oldest finding; the pane scrolls to show it */
	top_model__key(m, TOP_KEY_END);
	top_screen__layout(&sc, m, 24, 80, &fr);
	CHECK(selected_line(&fr) > line_with(&fr, "-- findings") &&
	      strstr(fr.lines[selected_line(&fr)].text, "missing-release-callback"),
	      "End: selected %d", selected_line(&fr));
	CHECK(line_with(&fr, "bash[412]") > 0, "devices pane kept");
	/* too small: one line that says so */
	top_screen__layout(&sc, m, 5, 20, &fr);
	CHECK_INT(fr.nr, 5);
	CHECK(strstr(fr.lines[0].text, "dmarefwatch top:"), "too small");
	/* batch: everything, untruncated, no help line, no cursor */
	top_model__expand_all(m, true);
	top_screen__layout(&sc, m, 0, 0, &fr);
	text = frame_text(&fr);
	CHECK(strstr(text, "dma0chan1") && strstr(text, "dmarw_client_request_by_mask+0x24"),
	      "batch with stacks:\n%s", text);
	CHECK(!strstr(text, "q quit") && selected_line(&fr) < 0, "batch has no keys");
	CHECK(strstr(text, "worse_stop") && strstr(text, "unregister-with-users"),
	      "batch has every finding");
	CHECK(fr.nr > 20, "batch is short: %zu", fr.nr);
out:
	free(text);
	top_frame__free(&fr);
	top_model__free(m);
	engine__free(e);
}

/* what the BPF side lost is on the status line, only when it happened */
TEST(top_status_ledger_losses)
{
	struct engine *e = engine__new();
	struct top_model *m = top_model__new("k", S, 10 * S);
	char buf[256];

	CHECK(e && m, "oom");
	engine__set_hook(e, DMARW_HOOK_CHAN_GET, RW_HOOK_FENTRY, 1, 0);
	top_model__update(m, e, S, 1700000000);
	top_model__status(m, buf, sizeof(buf));
	CHECK(!strstr(buf, "ledger") && !strstr(buf, "stack failed"), "status: %s", buf);
	engine__set_hook_losses(e, DMARW_HOOK_CHAN_GET, 3, 2, 0, 9);
	engine__set_hook_losses(e, DMARW_HOOK_CHAN_PUT, 1, 0, 0, 0);
	top_model__update(m, e, 2 * S, 1700000001);
	top_model__status(m, buf, sizeof(buf));
	CHECK(strstr(buf, "ledger full 4") && strstr(buf, "stack failed 2") &&
	      !strstr(buf, "map failed"), "status: %s", buf);
out:
	top_model__free(m);
	engine__free(e);
}
