// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The option value parsers: durations, counts, severities, device patterns. */
#include <string.h>
#include "cli.h"
#include "finding.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	char s[256];
	long v;
	long long ns;

	if (n >= sizeof(s))
		n = sizeof(s) - 1;
	memcpy(s, data, n);
	s[n] = '\0';
	ns = parse_duration_ns(s);
	if (ns < -1)
		abort();
	if (!parse_count(s, 0, 1000000000L, &v) && (v < 0 || v > 1000000000L))
		abort();
	finding_severity_parse(s);
	return 0;
}
