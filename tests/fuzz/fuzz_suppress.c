// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A suppression file parsed, then matched against the findings of the
 * recorded trace (tests/data/leak-unbind.trace, replayed once).
 */
#include "engine.h"
#include "finding.h"
#include "fuzz_common.h"
#include "suppress.h"
#include "trace_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	static struct engine *ref;
	struct suppressions *supp;
	char err[512];
	size_t i;

	if (!ref) {
		ref = engine__new();
		if (!ref || trace_file__replay("tests/data/leak-unbind.trace", ref, err,
					       sizeof(err)))
			abort();	/* run from the top of the repository */
	}
	supp = suppress__parse((const char *)data, n, "fuzz", err, sizeof(err));
	if (!supp)
		return 0;
	for (i = 0; i < engine__nr_findings(ref); i++)
		suppress__match(supp, engine__finding(ref, i));
	for (i = 0; i < suppress__count(supp); i++)
		if (!suppress__name(supp, i))
			abort();
	suppress__free(supp);
	return 0;
}
