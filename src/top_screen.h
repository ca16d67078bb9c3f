/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Laying out the top model on a screen of ROWS x COLS: a title line, the
 * devices pane (column header, then rows), the findings pane (title, then
 * rows), a status line and a help line.  Each pane scrolls on its own to
 * keep the cursor visible; the selected row is marked with '>' (and drawn
 * in reverse by cmd_top.c).  Batch mode lays out every row at full length.
 * Plain C: the unit tests check frames without a terminal.
 */
#ifndef __DMARW_TOP_SCREEN_H
#define __DMARW_TOP_SCREEN_H

#include <stdbool.h>
#include <stdio.h>
#include "top_model.h"

struct top_line {
	char *text;
	enum top_attr attr;
	bool selected;
};

struct top_frame {
	int rows;
	int cols;
	size_t nr;
	struct top_line *lines;
};

/* Scroll positions kept between frames. */
struct top_screen {
	long scroll[TOP_PANE_MAX];
};

#define TOP_MIN_ROWS	8
#define TOP_MIN_COLS	30

/*
 * Fill @fr (freed by top_frame__free(), may be reused) with exactly @rows
 * lines of at most @cols characters, or with every row untruncated when
 * @rows <= 0 (batch).  0, or -ENOMEM.
 */
int top_screen__layout(struct top_screen *sc, struct top_model *m, int rows, int cols,
		       struct top_frame *fr);
void top_frame__free(struct top_frame *fr);
/* The frame as plain text, trailing blanks removed. */
int top_frame__print(FILE *f, const struct top_frame *fr);

#endif /* __DMARW_TOP_SCREEN_H */
