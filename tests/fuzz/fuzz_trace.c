// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A trace file replayed through the engine and every report writer. */
#include <string.h>
#include "engine.h"
#include "fuzz_common.h"
#include "prometheus.h"
#include "report.h"
#include "trace_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	static FILE *null;
	struct trace_info info;
	struct prom_opts po;
	struct report_opts o;
	char path[128], err[512];
	struct engine *e;

	if (!null)
		null = fopen("/dev/null", "w");
	fuzz_file(path, sizeof(path), "trace", data, n);
	e = engine__new();
	if (!e)
		return 0;
	if (!trace_file__replay_info(path, e, &info, err, sizeof(err))) {
		if (!info.finished)
			engine__finish(e, engine__stats(e)->last_ts_ns, NULL);
		report_opts__init(&o);
		report__text(null, e, &o);
		report__json(null, e, &o);
		report__junit(null, e, &o);
		memset(&po, 0, sizeof(po));
		po.version = "fuzz";
		po.kernel = info.kernel;
		po.now_ns = engine__stats(e)->last_ts_ns;
		prometheus__write(null, e, &po);
	}
	engine__free(e);
	unlink(path);
	return 0;
}
