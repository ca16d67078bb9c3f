/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The inside of struct top_model, shared by top_model.c (rows, keys, text)
 * and top_view.c (the copy of the engine a refresh takes).
 */
#ifndef __DMARW_TOP_MODEL_PRIV_H
#define __DMARW_TOP_MODEL_PRIV_H

#include <time.h>
#include "engine.h"
#include "top_model.h"

#define TOP_MAX_DEVICES		256
#define TOP_MAX_CHANNELS	1024
#define TOP_MAX_HOLDERS		256
#define TOP_MAX_FINDINGS	200
#define TOP_MAX_EXPANDED	64
#define TOP_FILTER_LEN		64

/* What a row stands for: the cursor and expansion follow items, not rows. */
enum item_type { IT_NONE, IT_DEVICE, IT_CHANNEL, IT_HOLDER, IT_FINDING };

struct item {
	enum item_type type;
	uint64_t id;	/* engine index (device, channel, finding), holder id */
};

struct view_dev {
	size_t idx;
	char name[FINDING_NAME_LEN];
	char dev_name[DMARW_NAME_LEN];
	char drv_name[DMARW_NAME_LEN];
	uint32_t state;
	int32_t kref;
	int32_t has_release;
	int64_t users;		/* sum of client_count */
	uint64_t oldest_ns;	/* oldest holder, 0 none */
};

struct view_chan {
	size_t idx;
	size_t dev;		/* engine device index */
	char name[FINDING_NAME_LEN];
	int32_t client_count;
	uint32_t held;
	uint32_t predating;
	char client_name[RW_CLIENT_LEN];
	uint64_t oldest_ns;
};

struct view_holder {
	uint64_t id;
	size_t chan;		/* engine channel index */
	uint32_t refs;
	bool leaked;		/* leaked-reference: its holder is gone */
	bool long_held;		/* alive, held longer than --min-age */
	struct finding_holder who;
};

struct view_finding {
	size_t idx;
	enum finding_kind kind;
	enum finding_severity severity;
	uint64_t ts_ns;
	char device[FINDING_NAME_LEN];
	char channel[FINDING_NAME_LEN];
	char dev_name[DMARW_NAME_LEN];
	char drv_name[DMARW_NAME_LEN];
	bool has_holder;
	uint32_t pid;
	char comm[DMARW_COMM_LEN];
	char function[RW_FUNC_LEN];
	char module[RW_MODULE_LEN];
	uint32_t count;
	bool suppressed;
};

struct top_model {
	char kernel[64];
	/* whose holders these are: "service pid 812, since ..." or "own session" */
	char source[160];
	uint64_t interval_ns;
	uint64_t min_age_ns;
	const struct engine *e;

	/* the copy of the engine */
	bool have_view;
	uint64_t now_ns;
	time_t wall;
	struct view_dev devs[TOP_MAX_DEVICES];
	size_t nr_devs;
	struct view_chan chans[TOP_MAX_CHANNELS];
	size_t nr_chans;
	struct view_holder holders[TOP_MAX_HOLDERS];
	size_t nr_holders;
	struct view_finding finds[TOP_MAX_FINDINGS];
	size_t nr_finds;
	size_t total_findings;
	size_t errors, warnings, infos;
	uint64_t events, lost;
	struct ledger_losses losses;	/* summed over the hooks */
	enum rw_hook_mode hook_mode[DMARW_HOOK_MAX];

	/* user state */
	bool paused;
	bool expand_all;
	enum top_sort sort;
	char filter[TOP_FILTER_LEN];
	bool prompting;
	char prompt[TOP_FILTER_LEN];
	struct item expanded[TOP_MAX_EXPANDED];
	size_t nr_expanded;
	struct item folded[TOP_MAX_EXPANDED];
	size_t nr_folded;
	struct item sel;
	long sel_row;
	int page;
	int width;

	/* the rows, rebuilt on demand */
	struct top_row *rows;
	struct item *row_items;
	size_t nr_rows;
	size_t cap_rows;
	bool overflow;
};

/* @src into @dst, cut to fit */
static inline void copy_names(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src);
}

#endif /* __DMARW_TOP_MODEL_PRIV_H */
