/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The screen model of `dmarefwatch top`, in plain C so that it is tested
 * without a terminal: a copy of what the engine shows (frozen while
 * paused), the user's state (cursor, expanded items, filter, sort), the
 * keys that change it, and the logical rows of the two panes (devices with
 * their channels in use and holders; findings, newest first).  Laying the
 * rows out on a screen of a given size is top_screen.h; ncurses only lives
 * in cmd_top.c.
 */
#ifndef __DMARW_TOP_MODEL_H
#define __DMARW_TOP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct engine;
struct top_model;

/* How a row is drawn: cmd_top.c maps these to colours or plain attributes. */
enum top_attr {
	TOP_A_NORMAL,
	TOP_A_TITLE,		/* first line */
	TOP_A_HEADER,		/* column headers, pane titles */
	TOP_A_DEVICE,
	TOP_A_DIM,		/* stacks, predating references, released devices */
	TOP_A_ERROR,		/* findings by severity; leaked holders */
	TOP_A_WARNING,
	TOP_A_INFO,
	TOP_A_STATUS,
	TOP_A_MAX
};

enum top_pane { TOP_PANE_DEVICES, TOP_PANE_FINDINGS, TOP_PANE_MAX };

enum top_sort { TOP_SORT_DEVICE, TOP_SORT_CLIENTS, TOP_SORT_AGE, TOP_SORT_MAX };

/* Keys beyond the printable characters (which are passed as themselves). */
enum top_key {
	TOP_KEY_UP = 0x100,
	TOP_KEY_DOWN,
	TOP_KEY_PGUP,
	TOP_KEY_PGDN,
	TOP_KEY_HOME,
	TOP_KEY_END,
	TOP_KEY_ENTER,
	TOP_KEY_BACKSPACE,
	TOP_KEY_ESC,
};

enum top_action { TOP_ACT_NONE, TOP_ACT_REDRAW, TOP_ACT_QUIT };

struct top_row {
	char text[512];
	enum top_attr attr;
	enum top_pane pane;
	bool selectable;
};

struct top_model *top_model__new(const char *kernel, uint64_t interval_ns,
				 uint64_t min_age_ns);
void top_model__free(struct top_model *m);

/*
 * Copy what the engine shows now (ignored while paused).  @now_ns is the
 * engine's clock (monotonic), @wall the same moment in wall-clock time, for
 * the times of findings.  The model keeps @e for the details of findings
 * (never removed from an engine), so @e must outlive the model.
 */
void top_model__update(struct top_model *m, const struct engine *e, uint64_t now_ns,
		       time_t wall);
/* One key (a printable character or enum top_key). */
enum top_action top_model__key(struct top_model *m, int key);
/* Where the holders come from, first on the status line. */
void top_model__set_source(struct top_model *m, const char *source);
/* Expand every holder's stack (batch mode with -v). */
void top_model__expand_all(struct top_model *m, bool on);
/* Width used to wrap the evidence of expanded findings. */
void top_model__set_width(struct top_model *m, int cols);

/* The logical rows of both panes, in order; valid until the next call. */
const struct top_row *top_model__rows(struct top_model *m, size_t *nr);
/* Index of the selected row in top_model__rows(), or -1. */
long top_model__cursor(struct top_model *m);
/* Page height for PgUp/PgDn, set by the layout. */
void top_model__set_page(struct top_model *m, int rows);

/* Lines of the frame around the panes. */
void top_model__title(struct top_model *m, char *buf, size_t len);
void top_model__pane_title(struct top_model *m, enum top_pane pane, char *buf, size_t len);
void top_model__status(struct top_model *m, char *buf, size_t len);
/* The bottom line: key help, or the filter prompt while one is typed. */
void top_model__help(struct top_model *m, char *buf, size_t len);

const char *top_model__filter(const struct top_model *m);
enum top_sort top_model__sort(const struct top_model *m);
const char *top_sort_name(enum top_sort s);

#endif /* __DMARW_TOP_MODEL_H */
