// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The screen model of `dmarefwatch top`; see top_model.h. */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "top_model_priv.h"

const char *top_sort_name(enum top_sort s)
{
	switch (s) {
	case TOP_SORT_CLIENTS:	return "clients";
	case TOP_SORT_AGE:	return "age";
	default:		return "device";
	}
}

struct top_model *top_model__new(const char *kernel, uint64_t interval_ns,
				 uint64_t min_age_ns)
{
	struct top_model *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	snprintf(m->kernel, sizeof(m->kernel), "%s", kernel ? kernel : "");
	m->interval_ns = interval_ns;
	m->min_age_ns = min_age_ns;
	m->sel_row = -1;
	m->page = 10;
	m->width = 80;
	return m;
}

void top_model__free(struct top_model *m)
{
	if (!m)
		return;
	free(m->rows);
	free(m->row_items);
	free(m);
}

/* ---- the copy of the engine ---- */


/* ---- user state ---- */

static bool item_eq(struct item a, struct item b)
{
	return a.type == b.type && a.id == b.id;
}

static bool in_set(const struct item *set, size_t n, struct item it)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (item_eq(set[i], it))
			return true;
	return false;
}

static void toggle(struct item *set, size_t *n, struct item it)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		if (item_eq(set[i], it)) {
			set[i] = set[--*n];
			return;
		}
	}
	if (*n < TOP_MAX_EXPANDED)
		set[(*n)++] = it;
}

void top_model__expand_all(struct top_model *m, bool on)
{
	m->expand_all = on;
}

void top_model__set_width(struct top_model *m, int cols)
{
	m->width = cols > 20 ? cols : 20;
}

void top_model__set_page(struct top_model *m, int rows)
{
	m->page = rows > 1 ? rows : 1;
}

const char *top_model__filter(const struct top_model *m)
{
	return m->filter;
}

enum top_sort top_model__sort(const struct top_model *m)
{
	return m->sort;
}

/* ---- rows ---- */

static bool match_one(const char *pat, const char *s)
{
	if (!s || !*s)
		return false;
	if (strpbrk(pat, "*?["))
		return !fnmatch(pat, s, 0);
	return strstr(s, pat) != NULL;
}

static bool filter_match(const struct top_model *m, const char *a, const char *b,
			 const char *c, const char *d)
{
	const char *pat = m->filter;

	if (!*pat)
		return true;
	return match_one(pat, a) || match_one(pat, b) || match_one(pat, c) || match_one(pat, d);
}

static struct top_row *add_row(struct top_model *m, enum top_pane pane, enum top_attr attr,
			       struct item it, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static struct top_row *add_row(struct top_model *m, enum top_pane pane, enum top_attr attr,
			       struct item it, const char *fmt, ...)
{
	struct top_row *r;
	va_list ap;

	if (m->nr_rows == m->cap_rows) {
		size_t cap = m->cap_rows ? m->cap_rows * 2 : 64;
		struct top_row *nr = realloc(m->rows, cap * sizeof(*nr));
		struct item *ni;

		if (!nr) {
			m->overflow = true;
			return NULL;
		}
		m->rows = nr;
		ni = realloc(m->row_items, cap * sizeof(*ni));
		if (!ni) {
			m->overflow = true;
			return NULL;
		}
		m->row_items = ni;
		m->cap_rows = cap;
	}
	r = &m->rows[m->nr_rows];
	m->row_items[m->nr_rows] = it;
	m->nr_rows++;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
	r->attr = attr;
	r->pane = pane;
	r->selectable = it.type != IT_NONE;
	return r;
}

static const struct item no_item = { IT_NONE, 0 };

/* "12s", "3m04s", "2h05m", "3d04h" */
static const char *age_str(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / 1000000000ULL;

	if (s < 60)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lluh%02llum", (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60));
	else
		snprintf(buf, len, "%llud%02lluh", (unsigned long long)(s / 86400),
			 (unsigned long long)(s / 3600 % 24));
	return buf;
}

static void add_stack(struct top_model *m, const struct finding_holder *who, const char *indent)
{
	uint32_t i;

	if (!who->nr_frames) {
		add_row(m, TOP_PANE_DEVICES, TOP_A_DIM, no_item, "%s(no stack)", indent);
		return;
	}
	for (i = 0; i < who->nr_frames && i < DMARW_MAX_STACK; i++) {
		const struct rw_frame *fr = &who->frames[i];

		add_row(m, TOP_PANE_DEVICES, TOP_A_DIM, no_item, "%s%s+0x%x%s%s%s", indent,
			fr->func[0] ? fr->func : "?", fr->offset, fr->module[0] ? " [" : "",
			fr->module, fr->module[0] ? "]" : "");
	}
}

static const char *has_release_str(int32_t r)
{
	return r < 0 ? "?" : r ? "yes" : "NO";
}

static int sort_key_cmp(const struct top_model *m, int64_t users_a, uint64_t old_a,
			size_t idx_a, int64_t users_b, uint64_t old_b, size_t idx_b)
{
	if (m->sort == TOP_SORT_CLIENTS && users_a != users_b)
		return users_a > users_b ? -1 : 1;
	if (m->sort == TOP_SORT_AGE && old_a != old_b) {
		if (!old_a || !old_b)
			return old_a ? -1 : 1;
		return old_a < old_b ? -1 : 1;
	}
	return idx_a < idx_b ? -1 : idx_a > idx_b;
}

static const struct top_model *sort_model;

static int dev_cmp(const void *a, const void *b)
{
	const struct view_dev *x = *(const struct view_dev *const *)a;
	const struct view_dev *y = *(const struct view_dev *const *)b;

	return sort_key_cmp(sort_model, x->users, x->oldest_ns, x->idx, y->users,
			    y->oldest_ns, y->idx);
}

static int chan_cmp(const void *a, const void *b)
{
	const struct view_chan *x = *(const struct view_chan *const *)a;
	const struct view_chan *y = *(const struct view_chan *const *)b;

	return sort_key_cmp(sort_model, x->client_count, x->oldest_ns, x->idx,
			    y->client_count, y->oldest_ns, y->idx);
}

static void add_channel_rows(struct top_model *m, const struct view_chan *c)
{
	struct item it = { IT_CHANNEL, c->idx };
	bool chan_open = m->expand_all || in_set(m->expanded, m->nr_expanded, it);
	char age[32];
	size_t j;

	add_row(m, TOP_PANE_DEVICES, TOP_A_NORMAL, it,
		"  %-12s clients %-3d %u traced%s%s", c->name, c->client_count, c->held,
		c->client_name[0] ? "  client " : "", c->client_name);
	for (j = 0; j < m->nr_holders; j++) {
		const struct view_holder *h = &m->holders[j];
		struct item hi = { IT_HOLDER, h->id };

		if (h->chan != c->idx)
			continue;
		add_row(m, TOP_PANE_DEVICES, h->leaked ? TOP_A_ERROR : TOP_A_NORMAL, hi,
			"    %s[%u]  %s [%s]  age %s%s%.0u%s", h->who.comm, h->who.pid,
			h->who.function[0] ? h->who.function : "?", h->who.module,
			age_str(m->now_ns > h->who.ts_ns ? m->now_ns - h->who.ts_ns : 0,
				age, sizeof(age)),
			h->refs > 1 ? "  refs " : "", h->refs > 1 ? h->refs : 0,
			h->leaked ? "  LEAKED" : h->long_held ? "  long-held" : "");
		if (chan_open || in_set(m->expanded, m->nr_expanded, hi))
			add_stack(m, &h->who, "        ");
	}
	if (c->predating)
		add_row(m, TOP_PANE_DEVICES, TOP_A_DIM, no_item,
			"    %u reference%s taken before tracing", c->predating,
			c->predating == 1 ? "" : "s");
}

static void build_devices(struct top_model *m)
{
	const struct view_dev *devs[TOP_MAX_DEVICES];
	const struct view_chan *chans[TOP_MAX_CHANNELS];
	size_t i, j, nd = 0, nc;

	for (i = 0; i < m->nr_devs; i++) {
		const struct view_dev *d = &m->devs[i];

		if (filter_match(m, d->name, d->dev_name, d->drv_name, NULL))
			devs[nd++] = d;
	}
	sort_model = m;
	qsort(devs, nd, sizeof(devs[0]), dev_cmp);
	if (!nd)
		add_row(m, TOP_PANE_DEVICES, TOP_A_DIM, no_item, "  %s",
			m->filter[0] ? "no device matches the filter" :
				       "no dmaengine device seen yet");
	for (i = 0; i < nd; i++) {
		const struct view_dev *d = devs[i];
		struct item it = { IT_DEVICE, d->idx };
		bool folded = in_set(m->folded, m->nr_folded, it);
		char kref[16];

		if (d->kref >= 0)
			snprintf(kref, sizeof(kref), "%d", d->kref);
		else
			snprintf(kref, sizeof(kref), "?");
		add_row(m, TOP_PANE_DEVICES, d->state == DMARW_DEV_RELEASED ? TOP_A_DIM :
			TOP_A_DEVICE, it, "%-7s %-19s %-15s %-13s %5s  %s%s", d->name,
			d->dev_name, d->drv_name, engine_dev_state_name(d->state), kref,
			has_release_str(d->has_release), folded ? "  [+]" : "");
		if (folded)
			continue;
		for (j = 0, nc = 0; j < m->nr_chans; j++)
			if (m->chans[j].dev == d->idx)
				chans[nc++] = &m->chans[j];
		qsort(chans, nc, sizeof(chans[0]), chan_cmp);
		for (j = 0; j < nc; j++)
			add_channel_rows(m, chans[j]);
	}
}

static enum top_attr sev_attr(enum finding_severity s)
{
	return s == SEVERITY_ERROR ? TOP_A_ERROR : s == SEVERITY_WARNING ? TOP_A_WARNING :
	       TOP_A_INFO;
}

/* Word-wrap @text under @indent at the model's width. */
static void add_wrapped(struct top_model *m, enum top_attr attr, const char *indent,
			const char *text)
{
	int width = m->width - (int)strlen(indent) - 2;
	const char *p = text;

	if (width < 20)
		width = 20;
	while (*p) {
		int n = (int)strlen(p), cut = n;

		if (n > width) {
			for (cut = width; cut > 0 && p[cut] != ' '; cut--)
				;
			if (!cut)
				cut = width;
		}
		add_row(m, TOP_PANE_FINDINGS, attr, no_item, "%s%.*s", indent, cut, p);
		p += cut;
		while (*p == ' ')
			p++;
	}
}

static void build_findings(struct top_model *m)
{
	size_t i, shown = 0;
	char when[16];

	for (i = 0; i < m->nr_finds; i++) {
		const struct view_finding *f = &m->finds[i];
		struct item it = { IT_FINDING, f->idx };
		time_t t = m->wall - (time_t)((m->now_ns > f->ts_ns ? m->now_ns - f->ts_ns : 0) /
					       1000000000ULL);
		struct tm tm;
		struct top_row *r;

		if (!filter_match(m, f->device, f->dev_name, f->drv_name, f->channel))
			continue;
		shown++;
		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		r = add_row(m, TOP_PANE_FINDINGS, f->suppressed ? TOP_A_DIM : sev_attr(f->severity),
			    it, "%s %-7s %-24s %-10s", when, finding_severity_name(f->severity),
			    finding_kind_name(f->kind), f->channel[0] ? f->channel : f->device);
		if (r && f->has_holder)
			snprintf(r->text + strlen(r->text), sizeof(r->text) - strlen(r->text),
				 " %s[%u] %s [%s]", f->comm, f->pid,
				 f->function[0] ? f->function : "?", f->module);
		if (r && f->count > 1)
			snprintf(r->text + strlen(r->text), sizeof(r->text) - strlen(r->text),
				 " x%u", f->count);
		if (r && f->suppressed)
			snprintf(r->text + strlen(r->text), sizeof(r->text) - strlen(r->text),
				 " (suppressed)");
		if (m->e && in_set(m->expanded, m->nr_expanded, it) &&
		    f->idx < engine__nr_findings(m->e)) {
			const struct finding *fd = engine__finding(m->e, f->idx);
			size_t before = m->nr_rows;
			uint32_t k;

			add_wrapped(m, TOP_A_NORMAL, "    ", fd->evidence);
			if (fd->holder.valid) {
				add_stack(m, &fd->holder, "      ");
				for (k = before; k < m->nr_rows; k++)
					m->rows[k].pane = TOP_PANE_FINDINGS;
			}
		}
	}
	if (!shown)
		add_row(m, TOP_PANE_FINDINGS, TOP_A_DIM, no_item, "  %s",
			m->filter[0] && m->nr_finds ? "no finding matches the filter" :
						      "no findings");
}

static void rebuild(struct top_model *m)
{
	size_t i;
	long first = -1;

	m->nr_rows = 0;
	build_devices(m);
	build_findings(m);
	/* keep the cursor on its item; else on the row where it was */
	m->sel_row = -1;
	for (i = 0; i < m->nr_rows; i++) {
		if (m->rows[i].selectable && first < 0)
			first = (long)i;
		if (m->sel.type != IT_NONE && item_eq(m->row_items[i], m->sel)) {
			m->sel_row = (long)i;
			return;
		}
	}
	(void)first;
}

static void fix_cursor(struct top_model *m, long old_row)
{
	long i;

	if (m->sel_row >= 0 || !m->nr_rows)
		return;
	if (old_row < 0)
		old_row = 0;
	if (old_row >= (long)m->nr_rows)
		old_row = (long)m->nr_rows - 1;
	for (i = old_row; i >= 0; i--)
		if (m->rows[i].selectable)
			break;
	if (i < 0)
		for (i = old_row; i < (long)m->nr_rows; i++)
			if (m->rows[i].selectable)
				break;
	if (i >= 0 && i < (long)m->nr_rows && m->rows[i].selectable) {
		m->sel_row = i;
		m->sel = m->row_items[i];
	}
}

const struct top_row *top_model__rows(struct top_model *m, size_t *nr)
{
	long old = m->sel_row;

	rebuild(m);
	fix_cursor(m, old);
	*nr = m->nr_rows;
	return m->rows;
}

long top_model__cursor(struct top_model *m)
{
	return m->sel_row;
}

static void move(struct top_model *m, long delta)
{
	long i = m->sel_row, step = delta < 0 ? -1 : 1, left = delta < 0 ? -delta : delta;
	long last = m->sel_row;

	if (!m->nr_rows)
		return;
	if (i < 0)
		i = step > 0 ? -1 : (long)m->nr_rows;
	while (left > 0) {
		i += step;
		if (i < 0 || i >= (long)m->nr_rows)
			break;
		if (m->rows[i].selectable) {
			last = i;
			left--;
		}
	}
	if (last >= 0) {
		m->sel_row = last;
		m->sel = m->row_items[last];
	}
}

static void selected_toggle(struct top_model *m)
{
	if (m->sel_row < 0)
		return;
	if (m->sel.type == IT_DEVICE)
		toggle(m->folded, &m->nr_folded, m->sel);
	else
		toggle(m->expanded, &m->nr_expanded, m->sel);
}

enum top_action top_model__key(struct top_model *m, int key)
{
	size_t n;

	top_model__rows(m, &n);
	if (m->prompting) {
		size_t len = strlen(m->prompt);

		if (key == TOP_KEY_ENTER) {
			snprintf(m->filter, sizeof(m->filter), "%s", m->prompt);
			m->prompting = false;
		} else if (key == TOP_KEY_ESC) {
			m->prompting = false;
		} else if (key == TOP_KEY_BACKSPACE) {
			if (len)
				m->prompt[len - 1] = 0;
		} else if (key >= 0x20 && key < 0x7f && len + 1 < sizeof(m->prompt)) {
			m->prompt[len] = (char)key;
			m->prompt[len + 1] = 0;
		} else {
			return TOP_ACT_NONE;
		}
		return TOP_ACT_REDRAW;
	}
	switch (key) {
	case 'q':
	case 'Q':
		return TOP_ACT_QUIT;
	case 'j':
	case TOP_KEY_DOWN:
		move(m, 1);
		break;
	case 'k':
	case TOP_KEY_UP:
		move(m, -1);
		break;
	case TOP_KEY_PGDN:
	case ' ':
		move(m, m->page);
		break;
	case TOP_KEY_PGUP:
		move(m, -m->page);
		break;
	case 'g':
	case TOP_KEY_HOME:
		move(m, -(long)m->nr_rows);
		break;
	case 'G':
	case TOP_KEY_END:
		move(m, (long)m->nr_rows);
		break;
	case TOP_KEY_ENTER:
		selected_toggle(m);
		break;
	case '/':
		m->prompting = true;
		snprintf(m->prompt, sizeof(m->prompt), "%s", m->filter);
		break;
	case 's':
		m->sort = (enum top_sort)((m->sort + 1) % TOP_SORT_MAX);
		break;
	case 'p':
		m->paused = !m->paused;
		break;
	case TOP_KEY_ESC:
		/* Esc clears a filter */
		if (!m->filter[0])
			return TOP_ACT_NONE;
		m->filter[0] = 0;
		break;
	default:
		return TOP_ACT_NONE;
	}
	return TOP_ACT_REDRAW;
}

/* ---- frame lines ---- */

static const char *dur_str(uint64_t ns, char *buf, size_t len)
{
	if (ns % 1000000000ULL)
		snprintf(buf, len, "%.1fs", ns / 1e9);
	else
		return age_str(ns, buf, len);
	return buf;
}

void top_model__title(struct top_model *m, char *buf, size_t len)
{
	char iv[32], ma[32], clock[16] = "";
	struct tm tm;

	if (m->have_view) {
		localtime_r(&m->wall, &tm);
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	}
	snprintf(buf, len, "dmarefwatch top  %s  every %s  leak after %s  sort %s%s%s%s  %s",
		 m->kernel, dur_str(m->interval_ns, iv, sizeof(iv)),
		 dur_str(m->min_age_ns, ma, sizeof(ma)), top_sort_name(m->sort),
		 m->filter[0] ? "  filter " : "", m->filter, m->paused ? "  PAUSED" : "",
		 clock);
}

void top_model__pane_title(struct top_model *m, enum top_pane pane, char *buf, size_t len)
{
	if (pane == TOP_PANE_DEVICES)
		snprintf(buf, len, " %-7s %-19s %-15s %-13s %5s  %s", "DEVICE", "NAME", "DRIVER",
			 "STATE", "KREF", "RELEASE");
	else
		snprintf(buf, len, "-- findings: %zu (%zu error%s, %zu warning%s, %zu info), "
			 "newest first --", m->total_findings, m->errors,
			 m->errors == 1 ? "" : "s", m->warnings, m->warnings == 1 ? "" : "s",
			 m->infos);
}

void top_model__set_source(struct top_model *m, const char *source)
{
	snprintf(m->source, sizeof(m->source), "%s", source ? source : "");
}

void top_model__status(struct top_model *m, char *buf, size_t len)
{
	static const enum rw_hook_mode modes[] = {
		RW_HOOK_FENTRY, RW_HOOK_KPROBE, RW_HOOK_UNAVAILABLE, RW_HOOK_TRACEPOINT,
	};
	size_t off, k;
	int h, count;

	off = snprintf(buf, len, "%s%sevents %llu  lost %llu ", m->source,
		       m->source[0] ? "  " : "", (unsigned long long)m->events,
		       (unsigned long long)m->lost);
	/* what the BPF side could not keep: only when it happened */
	if (m->losses.ledger_full && off < len)
		off += snprintf(buf + off, len - off, " ledger full %llu ",
				(unsigned long long)m->losses.ledger_full);
	if (m->losses.stack_failed && off < len)
		off += snprintf(buf + off, len - off, " stack failed %llu ",
				(unsigned long long)m->losses.stack_failed);
	if (m->losses.map_failed && off < len)
		off += snprintf(buf + off, len - off, " map failed %llu ",
				(unsigned long long)m->losses.map_failed);
	/* fentry is the rule: count it; name the hooks that are not ("n/a": unavailable) */
	for (k = 0; k < sizeof(modes) / sizeof(modes[0]) && off < len; k++) {
		for (h = 0, count = 0; h < DMARW_HOOK_MAX; h++)
			count += m->hook_mode[h] == modes[k];
		if (!count)
			continue;
		if (modes[k] == RW_HOOK_FENTRY) {
			off += snprintf(buf + off, len - off, " fentry %d ", count);
			continue;
		}
		off += snprintf(buf + off, len - off, " %s", modes[k] == RW_HOOK_UNAVAILABLE ?
				"n/a" : rw_hook_mode_name(modes[k]));
		for (h = 0; h < DMARW_HOOK_MAX && off < len; h++)
			if (m->hook_mode[h] == modes[k])
				off += snprintf(buf + off, len - off, " %s",
						rw_hook_name((enum dmarw_hook)h));
	}
	if (m->overflow && off < len)
		snprintf(buf + off, len - off, "  (out of memory: rows missing)");
}

void top_model__help(struct top_model *m, char *buf, size_t len)
{
	if (m->prompting)
		snprintf(buf, len, "filter by device (name, driver or glob; empty clears): %s_",
			 m->prompt);
	else
		snprintf(buf, len, "q quit  j/k move  Enter stack  / filter  s sort  p %s",
			 m->paused ? "resume" : "pause");
}
