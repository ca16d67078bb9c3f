/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A tiny unit-test harness: TEST(name) { ... CHECK(cond, fmt, ...); }
 * Each test prints "PASS: name" or "FAIL: name: what differed"; the run
 * ends with "N passed, N failed" and a non-zero exit on any failure.
 */
#ifndef __DMARW_HARNESS_H
#define __DMARW_HARNESS_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct tctx {
	bool failed;
	char msg[512];
};

typedef void (*test_fn)(struct tctx *t);

void harness_register(const char *name, test_fn fn);
void harness_fail(struct tctx *t, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define TEST(name)							\
	static void name(struct tctx *t);				\
	__attribute__((constructor)) static void reg_##name(void)	\
	{								\
		harness_register(#name, name);				\
	}								\
	static void name(struct tctx *t)

/* On failure: record the first message and leave the test (no cleanup). */
#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			harness_fail(t, __FILE__, __LINE__, __VA_ARGS__); \
			goto out;					\
		}							\
	} while (0)

#define CHECK_STR(a, b)							\
	CHECK(!strcmp((a), (b)), "%s is \"%s\", expected \"%s\"", #a, (a), (b))
#define CHECK_INT(a, b)							\
	CHECK((long long)(a) == (long long)(b), "%s is %lld, expected %lld", \
	      #a, (long long)(a), (long long)(b))

#endif /* __DMARW_HARNESS_H */
