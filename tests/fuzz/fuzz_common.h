/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the libFuzzer harnesses share: the input as a file the parsers open. */
#ifndef __DMARW_FUZZ_COMMON_H
#define __DMARW_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Write @data to a per-process file "/tmp/dmarw-fuzz-PID-TAG"; its path in @path. */
static inline int fuzz_file(char *path, size_t len, const char *tag,
			    const uint8_t *data, size_t n)
{
	FILE *f;
	size_t w;

	snprintf(path, len, "/tmp/dmarw-fuzz-%d-%s", (int)getpid(), tag);
	f = fopen(path, "w");
	if (!f)
		abort();
	w = fwrite(data, 1, n, f);
	if (fclose(f) || w != n)
		abort();
	return 0;
}

#endif /* __DMARW_FUZZ_COMMON_H */
