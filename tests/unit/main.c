/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Unit-test runner: runs every TEST() registered by the files in
 * tests/unit/, optionally only those whose name contains argv[1].
 */
#include <stdarg.h>
#include <stdlib.h>
#include "harness.h"

#define MAX_TESTS 512

static struct {
	const char *name;
	test_fn fn;
} tests[MAX_TESTS];
static int nr_tests;

void harness_register(const char *name, test_fn fn)
{
	if (nr_tests >= MAX_TESTS) {
		fprintf(stderr, "too many tests\n");
		exit(2);
	}
	tests[nr_tests].name = name;
	tests[nr_tests].fn = fn;
	nr_tests++;
}

void harness_fail(struct tctx *t, const char *file, int line, const char *fmt, ...)
{
	char buf[400];
	va_list ap;

	if (t->failed)
		return;
	t->failed = true;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	snprintf(t->msg, sizeof(t->msg), "%s (%s:%d)", buf, file, line);
}

int main(int argc, char **argv)
{
	int i, passed = 0, failed = 0;

	for (i = 0; i < nr_tests; i++) {
		struct tctx t = { 0 };

		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		tests[i].fn(&t);
		if (t.failed) {
			printf("FAIL: %s: %s\n", tests[i].name, t.msg);
			failed++;
		} else {
			printf("PASS: %s\n", tests[i].name);
			passed++;
		}
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
