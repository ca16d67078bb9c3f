// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Layout of the top model on a screen; see top_screen.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "top_screen.h"

void top_frame__free(struct top_frame *fr)
{
	size_t i;

	for (i = 0; i < fr->nr; i++)
		free(fr->lines[i].text);
	free(fr->lines);
	memset(fr, 0, sizeof(*fr));
}

static int put(struct top_frame *fr, size_t cap, const char *prefix, const char *text,
	       enum top_attr attr, bool selected)
{
	size_t n = strlen(prefix) + strlen(text);
	char *s;

	if (fr->nr == cap)
		return -ENOMEM;
	if (fr->cols > 0 && n > (size_t)fr->cols)
		n = fr->cols;
	s = malloc(n + 1);
	if (!s)
		return -ENOMEM;
	snprintf(s, n + 1, "%s%s", prefix, text);
	fr->lines[fr->nr].text = s;
	fr->lines[fr->nr].attr = attr;
	fr->lines[fr->nr].selected = selected;
	fr->nr++;
	return 0;
}

/* First and count of the rows of @pane in @rows. */
static void pane_span(const struct top_row *rows, size_t nr, enum top_pane pane,
		      size_t *first, size_t *count)
{
	size_t i;

	*first = nr;
	*count = 0;
	for (i = 0; i < nr; i++) {
		if (rows[i].pane != pane)
			continue;
		if (*first == nr)
			*first = i;
		(*count)++;
	}
}

static int put_pane(struct top_screen *sc, struct top_frame *fr, size_t cap,
		    const struct top_row *rows, size_t first, size_t count, long cursor,
		    enum top_pane pane, long height)
{
	long *scroll = &sc->scroll[pane], i;
	int err;

	if (height < 0)
		height = (long)count;
	/* keep the cursor in view when it is in this pane */
	if (cursor >= (long)first && cursor < (long)(first + count)) {
		long c = cursor - (long)first;

		if (c < *scroll)
			*scroll = c;
		if (c >= *scroll + height)
			*scroll = c - height + 1;
	}
	if (*scroll > (long)count - height)
		*scroll = (long)count - height;
	if (*scroll < 0)
		*scroll = 0;
	for (i = 0; i < height; i++) {
		long r = *scroll + i;

		if (r < (long)count) {
			const struct top_row *row = &rows[first + r];
			bool sel = (long)(first + r) == cursor;

			err = put(fr, cap, sel ? ">" : " ", row->text, row->attr, sel);
		} else {
			err = put(fr, cap, "", "", TOP_A_NORMAL, false);
		}
		if (err)
			return err;
	}
	return 0;
}

int top_screen__layout(struct top_screen *sc, struct top_model *m, int rows, int cols,
		       struct top_frame *fr)
{
	char buf[1024];
	const struct top_row *r;
	size_t nr, cap, dfirst, dcount, ffirst, fcount;
	long cursor, avail, hd, hf;
	bool batch = rows <= 0;
	int err;

	top_frame__free(fr);
	fr->rows = rows;
	fr->cols = batch ? 0 : cols;
	if (!batch)
		top_model__set_width(m, cols);
	r = top_model__rows(m, &nr);
	cursor = batch ? -1 : top_model__cursor(m);
	pane_span(r, nr, TOP_PANE_DEVICES, &dfirst, &dcount);
	pane_span(r, nr, TOP_PANE_FINDINGS, &ffirst, &fcount);
	cap = batch ? nr + 8 : (size_t)rows;
	fr->lines = calloc(cap ? cap : 1, sizeof(*fr->lines));
	if (!fr->lines)
		return -ENOMEM;

	if (!batch && (rows < TOP_MIN_ROWS || cols < TOP_MIN_COLS)) {
		snprintf(buf, sizeof(buf), "dmarefwatch top: the terminal is too small "
			 "(%dx%d, needs %dx%d); q quits", cols, rows, TOP_MIN_COLS, TOP_MIN_ROWS);
		err = put(fr, cap, "", buf, TOP_A_TITLE, false);
		while (!err && fr->nr < cap)
			err = put(fr, cap, "", "", TOP_A_NORMAL, false);
		return err;
	}
	top_model__title(m, buf, sizeof(buf));
	err = put(fr, cap, "", buf, TOP_A_TITLE, false);
	top_model__pane_title(m, TOP_PANE_DEVICES, buf, sizeof(buf));
	err = err ?: put(fr, cap, "", buf, TOP_A_HEADER, false);
	if (batch) {
		hd = hf = -1;
	} else {
		/* title, header, findings title, status, help */
		avail = rows - 5;
		if ((long)(dcount + fcount) <= avail) {
			hd = (long)dcount;
			hf = avail - hd;
		} else {
			hf = (long)fcount < avail / 3 ? (long)fcount : avail / 3;
			if (avail - hf > (long)dcount)
				hf = avail - (long)dcount;
			hd = avail - hf;
		}
		top_model__set_page(m, (int)(cursor >= (long)ffirst ? hf : hd));
	}
	err = err ?: put_pane(sc, fr, cap, r, dfirst, dcount, cursor, TOP_PANE_DEVICES, hd);
	top_model__pane_title(m, TOP_PANE_FINDINGS, buf, sizeof(buf));
	err = err ?: put(fr, cap, "", buf, TOP_A_HEADER, false);
	err = err ?: put_pane(sc, fr, cap, r, ffirst, fcount, cursor, TOP_PANE_FINDINGS, hf);
	top_model__status(m, buf, sizeof(buf));
	err = err ?: put(fr, cap, "", buf, TOP_A_STATUS, false);
	if (!batch) {
		top_model__help(m, buf, sizeof(buf));
		err = err ?: put(fr, cap, "", buf, TOP_A_STATUS, false);
	}
	return err;
}

int top_frame__print(FILE *f, const struct top_frame *fr)
{
	size_t i, n;

	for (i = 0; i < fr->nr; i++) {
		n = strlen(fr->lines[i].text);
		while (n && fr->lines[i].text[n - 1] == ' ')
			n--;
		fprintf(f, "%.*s\n", (int)n, fr->lines[i].text);
	}
	return ferror(f) ? -EIO : 0;
}
