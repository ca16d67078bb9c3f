/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the engine reports: one struct finding per incident, with the
 * kernel values and events it rests on (evidence).  Kind names are stable:
 * the JSON report, JUnit and suppression files use them verbatim.
 */
#ifndef __DMARW_FINDING_H
#define __DMARW_FINDING_H

#include <stdbool.h>
#include <stdint.h>
#include "event.h"

enum finding_kind {
	FINDING_LEAKED_REFERENCE,
	FINDING_UNREGISTER_WITH_USERS,
	FINDING_RELEASE_WITH_USERS,
	FINDING_UNBALANCED_PUT,
	FINDING_REFCOUNT_MISMATCH,
	FINDING_GET_AFTER_UNREGISTER,
	FINDING_RELEASE_PENDING,
	FINDING_MISSING_RELEASE_CALLBACK,
	FINDING_GET_FAILED,
	FINDING_LONG_HELD_REFERENCE,
	FINDING_KIND_MAX
};

/* Ordered: a --fail-on level fails every finding at or above it. */
enum finding_severity {
	SEVERITY_INFO,
	SEVERITY_WARNING,
	SEVERITY_ERROR,
};

#define FINDING_NAME_LEN	48
#define FINDING_EVIDENCE_LEN	768
#define FINDING_SUPP_LEN	64

/* The task and code that hold (or released, or took) the reference. */
struct finding_holder {
	bool valid;
	uint32_t pid;
	uint32_t tgid;
	char comm[DMARW_COMM_LEN];
	char module[RW_MODULE_LEN];	/* "vmlinux" for the core kernel */
	char function[RW_FUNC_LEN];	/* first frame outside dmaengine */
	uint64_t ts_ns;			/* when it was taken/done */
	/* the client device that dma_request_chan() named, "" unknown */
	char client[RW_CLIENT_LEN];	/* "3f202000.mmc:rx-tx" */
	char client_drv[DMARW_NAME_LEN];	/* its driver: "sdhost-bcm2835" */
	uint32_t nr_frames;
	struct rw_frame frames[DMARW_MAX_STACK];
};

struct finding {
	enum finding_kind kind;
	enum finding_severity severity;
	uint64_t ts_ns;			/* when the engine decided */
	int32_t dev_id;			/* -1 unknown */
	int32_t chan_id;		/* -1 no channel */
	char device[FINDING_NAME_LEN];	/* "dma0" */
	char channel[FINDING_NAME_LEN];	/* "dma0chan1", "" none */
	char dev_name[DMARW_NAME_LEN];
	char drv_name[DMARW_NAME_LEN];
	struct finding_holder holder;
	uint64_t age_ns;		/* age of the reference, 0 n/a */
	uint32_t refs;			/* references this finding covers (>= 1) */
	uint32_t count;			/* times the same incident repeated */
	char related_what[FINDING_NAME_LEN]; /* "previous-release", ... */
	struct finding_holder related;	/* a second stack, if any */
	char evidence[FINDING_EVIDENCE_LEN];
	char suppressed[FINDING_SUPP_LEN]; /* suppression name, "" if not */
};

const char *finding_kind_name(enum finding_kind kind);
int finding_kind_parse(const char *name);		/* -1 if unknown */
enum finding_severity finding_kind_severity(enum finding_kind kind);
const char *finding_severity_name(enum finding_severity sev);
int finding_severity_parse(const char *name);		/* -1 if unknown */

/* Does this finding fail a run with --fail-on @fail_on? */
bool finding__fails(const struct finding *f, enum finding_severity fail_on);

/* Holder frame: the first frame outside the dmaengine core and tracing. */
bool finding_frame_is_core(const struct rw_frame *frame);
/* Index of the holder frame in @frames, or -1 if every frame is core. */
int finding_holder_frame(const struct rw_frame *frames, uint32_t nr);
/*
 * " for 3f202000.mmc:rx-tx (sdhost-bcm2835)": how reports name a holder's
 * client; "" when @client is.  Returns @buf.
 */
const char *finding_client_str(char *buf, size_t len, const char *client, const char *drv);
#define FINDING_CLIENT_STR_LEN	(RW_CLIENT_LEN + DMARW_NAME_LEN + 8)

#endif /* __DMARW_FINDING_H */
