// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Regressions of hostile input (issue 12): each test failed on the code
 * before its fix (a crash, a use after free under ASan, UB under UBSan, a
 * quadratic parse, a refused or blocking input).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "engine.h"
#include "harness.h"
#include "helpers.h"
#include "json_parse.h"
#include "ksyms.h"
#include "report.h"
#include "suppress.h"
#include "trace_file.h"

static int put_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");
	size_t n;

	if (!f)
		return -1;
	n = fwrite(data, 1, len, f);
	return fclose(f) || n != len ? -1 : 0;
}

static void tmpdir(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/dmarw-robust-XXXXXX");
	if (!mkdtemp(buf))
		buf[0] = '\0';
}

static const char hdr[] = "{\"dmarefwatch_trace\":1,\"kernel\":\"6.1\"}\n";

/* an empty first line wrote the terminator through a NULL buffer */
TEST(robust_trace_empty_lines)
{
	char dir[64], path[128], err[512];
	struct engine *e = engine__new();
	int ret;

	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/t", dir);
	CHECK(!put_file(path, "\n", 1), "write");
	ret = trace_file__replay(path, e, err, sizeof(err));
	CHECK(ret == -EINVAL && strstr(err, ":1: "), "empty first line: %d %s", ret, err);
	CHECK(!put_file(path, "\n\n\n", 3), "write");
	ret = trace_file__replay(path, e, err, sizeof(err));
	CHECK(ret == -EINVAL, "empty lines: %d %s", ret, err);
out:
	unlink(path);
	rmdir(dir);
	engine__free(e);
}

/* a recording cut inside a line replays up to its last complete line */
TEST(robust_trace_cut_mid_line)
{
	static const char ev[] =
		"{\"type\":\"hook\",\"hook\":\"dma_chan_get\",\"mode\":\"fentry\",\"hits\":1,\"lost\":0}\n";
	char dir[64], path[128], err[512], data[1024];
	struct engine *e = engine__new();
	struct trace_info info;
	int ret;

	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/t", dir);
	snprintf(data, sizeof(data), "%s%s{\"type\":\"ev", hdr, ev);
	CHECK(!put_file(path, data, strlen(data)), "write");
	ret = trace_file__replay_info(path, e, &info, err, sizeof(err));
	CHECK(!ret, "cut trace refused: %s", err);
	CHECK(info.truncated, "cut not reported");
	CHECK_INT(info.lines, 2);
	/* a complete last line without its newline is not a cut */
	snprintf(data, sizeof(data), "%s%s", hdr, ev);
	data[strlen(data) - 1] = '\0';
	CHECK(!put_file(path, data, strlen(data)), "write");
	ret = trace_file__replay_info(path, e, &info, err, sizeof(err));
	CHECK(!ret && !info.truncated && info.lines == 2, "no newline: %d %s", ret, err);
	/* a bad line in the middle is still an error */
	snprintf(data, sizeof(data), "%s{\"type\":\"ev\n%s", hdr, ev);
	CHECK(!put_file(path, data, strlen(data)), "write");
	ret = trace_file__replay_info(path, e, &info, err, sizeof(err));
	CHECK(ret == -EINVAL && strstr(err, ":2: "), "bad middle line: %d %s", ret, err);
out:
	unlink(path);
	rmdir(dir);
	engine__free(e);
}

/* a FIFO with no writer blocked for ever; a directory or device is no trace */
TEST(robust_inputs_must_be_regular)
{
	char dir[64], path[128], err[512];
	struct engine *e = engine__new();
	struct suppressions *s;
	int ret;

	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	CHECK(!mkfifo(path, 0600), "mkfifo");
	alarm(10);	/* the old code blocks here */
	ret = trace_file__replay(path, e, err, sizeof(err));
	CHECK(ret < 0 && strstr(err, "not a regular file"), "fifo trace: %d %s", ret, err);
	s = suppress__load(path, err, sizeof(err));
	CHECK(!s && strstr(err, "not a regular file"), "fifo suppressions: %s", err);
	alarm(0);
	ret = trace_file__replay("/dev/null", e, err, sizeof(err));
	CHECK(ret < 0 && strstr(err, "not a regular file"), "device: %s", err);
out:
	alarm(0);
	unlink(path);
	rmdir(dir);
	engine__free(e);
}

/* one object of 65536 keys took 11.8 s: duplicate keys were a linear scan */
TEST(robust_json_many_keys_linear)
{
	const size_t nkeys = 65000;	/* under the element limit */
	struct json_limits lim = JSON_LIMITS_DEFAULT;
	struct json_error jerr;
	struct json_value *v = NULL;
	size_t cap = nkeys * 16 + 16, n = 0, i;
	char *text = malloc(cap);
	struct timespec t0, t1;
	double secs;

	CHECK(text, "oom");
	lim.max_bytes = cap;
	text[n++] = '{';
	for (i = 0; i < nkeys; i++)
		n += snprintf(text + n, cap - n, "%s\"k%zu\":1", i ? "," : "", i);
	text[n++] = '}';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	v = json_parse(text, n, &lim, &jerr);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK(v, "parse failed: %s", jerr.msg);
	CHECK_INT(v->len, nkeys);
	CHECK(secs < 2.0, "65536 keys took %.2f s", secs);
	json_free(v);
	/* a duplicate among many keys is still found */
	memcpy(text + n - 1, ",\"k7\":2}", 9);
	n += 7;
	v = json_parse(text, n, &lim, &jerr);
	CHECK(!v && strstr(jerr.msg, "duplicate key \"k7\""), "duplicate: %s",
	      v ? "accepted" : jerr.msg);
out:
	json_free(v);
	free(text);
}

/* modules unreadable on a refresh: the ranges pointed into freed strings */
TEST(robust_ksyms_modules_unreadable_on_refresh)
{
	static const char kallsyms[] =
		"ffffffff81000000 T _stext\n"
		"ffffffff81cde670 t dma_chan_get\n"
		"ffffffffc0001000 t dmarw_client_cmd\t[dmarw_client]\n";
	static const char modules[] =
		"dmarw_client 16384 0 - Live 0xffffffffc0001000\n";
	char dir[64], kpath[128], mpath[128];
	struct ksyms *ks = NULL;
	const char *m;

	tmpdir(dir, sizeof(dir));
	snprintf(kpath, sizeof(kpath), "%s/kallsyms", dir);
	snprintf(mpath, sizeof(mpath), "%s/modules", dir);
	CHECK(!put_file(kpath, kallsyms, strlen(kallsyms)), "write");
	CHECK(!put_file(mpath, modules, strlen(modules)), "write");
	ks = ksyms__load(kpath);
	CHECK(ks, "load");
	m = ksyms__module_at(ks, 0xffffffffc0001010ULL);
	CHECK(m && !strcmp(m, "dmarw_client"), "module before: %s", m ? m : "none");
	unlink(mpath);
	CHECK(!ksyms__refresh(ks), "refresh");
	m = ksyms__module_at(ks, 0xffffffffc0001010ULL);	/* ASan: use after free */
	CHECK(m && !strcmp(m, "dmarw_client"), "module after: %s", m ? m : "none");
out:
	ksyms__free(ks);
	unlink(kpath);
	unlink(mpath);
	rmdir(dir);
}

/* kallsyms without one text symbol: qsort(NULL, 0) (UBSan) */
TEST(robust_ksyms_no_text_symbol)
{
	char dir[64], kpath[128];
	struct ksyms *ks = NULL;

	tmpdir(dir, sizeof(dir));
	snprintf(kpath, sizeof(kpath), "%s/kallsyms", dir);
	CHECK(!put_file(kpath, "ffffffff82000000 D some_data\n", 29), "write");
	ks = ksyms__load(kpath);
	CHECK(ks, "load");
	CHECK(!ksyms__map_addr(ks, 0xffffffff82000000ULL), "data symbol mapped");
	CHECK(!ksyms__refresh(ks), "refresh");
out:
	ksyms__free(ks);
	unlink(kpath);
	rmdir(dir);
}

/* nan, 1e9h, 2e8m overflowed the cast to long long (UBSan) */
TEST(robust_duration_and_count_bounds)
{
	static const char *const bad[] = { "nan", "-nan", "inf", "1e9h", "2e8m", "1e10",
					   "-1", "", "1x", "3e9m" };
	long v = 0;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(parse_duration_ns(bad[i]) < 0, "'%s' accepted", bad[i]);
	CHECK_INT(parse_duration_ns("1.5"), 1500000000LL);
	CHECK_INT(parse_duration_ns("2ms"), 2000000LL);
	CHECK_INT(parse_duration_ns("1e9"), 1000000000000000000LL);
	CHECK(parse_count("99999999999999999999", 0, 1000, &v), "overflow accepted");
	CHECK(parse_count("12a", 0, 1000, &v), "trailing junk accepted");
	CHECK(parse_count("", 0, 1000, &v), "empty accepted");
	CHECK(parse_count("-1", 0, 1000, &v), "below min accepted");
	CHECK(!parse_count("42", 0, 1000, &v) && v == 42, "42: %ld", v);
out:
	;
}

/* the recorded 6.1 trace, from the repository root (tests/run) or tests/unit (make unit) */
static const char *leak_unbind_trace(void)
{
	return access("tests/data/leak-unbind.trace", R_OK) ? "../data/leak-unbind.trace" :
	       "tests/data/leak-unbind.trace";
}

/*
 * Version 1 traces carried an unregister's channels in use in "ret"; the
 * reader moves it to dev_in_use, so the old recording still says 3.
 */
TEST(robust_trace_v1_unregister_in_use)
{
	struct engine *e = engine__new();
	const struct finding *f;
	char err[512];

	CHECK(e, "oom");
	CHECK(!trace_file__replay(leak_unbind_trace(), e, err, sizeof(err)), "%s", err);
	f = find_kind(e, FINDING_UNREGISTER_WITH_USERS);
	CHECK(f, "no unregister-with-users finding");
	CHECK(strstr(f->evidence, "while 3 channels had users, client_count sum 3 read "
		     "from the kernel"), "evidence: %s", f->evidence);
out:
	engine__free(e);
}

/* engine allocation failures were set in a flag nobody read */
TEST(robust_engine_alloc_failure_counted)
{
	struct engine *e = engine__new(), *ref = engine__new();
	struct report_opts o;
	char err[512], *buf = NULL;
	size_t len = 0;
	FILE *f = NULL;

	CHECK(e && ref, "oom");
	CHECK(!trace_file__replay(leak_unbind_trace(), ref, err, sizeof(err)), "%s", err);
	CHECK_INT(engine__stats(ref)->alloc_failures, 0);
	engine_fault_grow = 1;	/* the first table growth fails: the first device */
	CHECK(!trace_file__replay(leak_unbind_trace(), e, err, sizeof(err)), "%s", err);
	engine_fault_grow = 0;
	CHECK(engine__stats(e)->alloc_failures >= 1, "failure not counted");
	report_opts__init(&o);
	f = open_memstream(&buf, &len);
	CHECK(f, "memstream");
	CHECK(!report__json(f, e, &o), "json report");
	fclose(f);
	f = NULL;
	CHECK(strstr(buf, "\"allocation_failures\":") && !strstr(buf, "\"allocation_failures\":0"),
	      "JSON: %.200s", buf);
out:
	engine_fault_grow = 0;
	if (f)
		fclose(f);
	free(buf);
	engine__free(e);
	engine__free(ref);
}
