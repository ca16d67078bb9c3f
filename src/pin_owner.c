// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The owner record of the service's pinned state; see pin_owner.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pin_owner.h"

int pin_owner__proc_start(const char *proc, uint32_t pid, uint64_t *start)
{
	char path[256], buf[1024], *p, *end, *tok, *save = NULL;
	size_t n;
	FILE *f;
	int field;

	*start = 0;
	if (!pid)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/%" PRIu32 "/stat", proc, pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* "PID (COMM) S PPID ...": COMM may hold spaces and ')': the last ')' ends it */
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	/* after it, field 3 (the state): the start time is field 22 */
	tok = strtok_r(p + 1, " ", &save);
	for (field = 3; tok && field < 22; field++)
		tok = strtok_r(NULL, " ", &save);
	if (!tok)
		return -EINVAL;
	errno = 0;
	*start = strtoull(tok, &end, 10);
	if (end == tok || errno)
		return -EINVAL;
	return 0;
}

enum pin_verdict pin_owner__judge(const struct dmarw_pin_owner *o, const char *proc,
				  char *why, size_t len)
{
	uint64_t start;
	int err;

	if (o->magic != DMARW_PIN_MAGIC) {
		snprintf(why, len, "its owner record is not dmarefwatch's");
		return PIN_STALE;
	}
	err = pin_owner__proc_start(proc, o->pid, &start);
	if (err == -ENOENT) {
		snprintf(why, len, "its owner, pid %u, is gone", o->pid);
		return PIN_STALE;
	}
	if (!err && start != o->pid_start) {
		snprintf(why, len, "its owner, pid %u, is gone (the pid is another "
			 "process's now)", o->pid);
		return PIN_STALE;
	}
	/*
	 * Running (or it cannot be told: the safe guess, for a reader and for a
	 * new service that must not take a live one's place).
	 */
	if (o->version != DMARW_PIN_VERSION || o->holder_size != sizeof(struct dmarw_holder)) {
		snprintf(why, len, "its owner, pid %u (dmarefwatch %.*s), writes format %u; "
			 "this dmarefwatch reads format %u", o->pid,
			 (int)sizeof(o->tool_version), o->tool_version, o->version,
			 DMARW_PIN_VERSION);
		return PIN_FOREIGN;
	}
	return PIN_LIVE;
}

void pin_owner__describe(const struct dmarw_pin_owner *o, char *buf, size_t len)
{
	time_t t = (time_t)o->since_real_s;
	char when[32] = "?";
	struct tm tm;

	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, len, "service pid %u, since %s UTC", o->pid, when);
}
