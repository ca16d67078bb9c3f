// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The JSON parser on any bytes, with the trace's limits. */
#include "fuzz_common.h"
#include "json_parse.h"
#include "trace_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct json_limits lim = JSON_LIMITS_DEFAULT;
	struct json_error jerr;
	struct json_value *v;

	lim.max_bytes = TRACE_MAX_LINE;
	v = json_parse((const char *)data, n, &lim, &jerr);
	if (v) {
		json_get(v, "type");
		json_free(v);
	}
	return 0;
}
