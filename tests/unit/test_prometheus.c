/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The Prometheus writer: a strict check of the text exposition format,
 * the values for a held and a leaked channel, escaping, the reuse of a
 * dev_id, and the atomic file replacement.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include "harness.h"
#include "helpers.h"
#include "prometheus.h"

#define S	1000000000ull

static void feed(struct engine *e, struct rw_event ev)
{
	engine__feed(e, &ev);
}

static char *expose(const struct engine *e, const struct prom_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	prometheus__write(f, e, o);
	fclose(f);
	return buf;
}

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/*
 * The text format as Prometheus parses it, stricter where node_exporter is:
 * HELP then TYPE once per family, the family's samples right after, no
 * series twice, no timestamps.  NULL if fine, else what is wrong.
 */
static const char *check_format(const char *text)
{
	static char why[512];
	char family[128] = "", seen[256][128], *series[4096];
	size_t nseen = 0, nseries = 0, i;
	const char *p = text, *eol;
	int line = 0;
	const char *ret = NULL;

#define BAD(...) do { snprintf(why, sizeof(why), __VA_ARGS__); ret = why; goto out; } while (0)
	if (!*text || text[strlen(text) - 1] != '\n')
		BAD("does not end with a newline");
	for (; *p; p = eol + 1) {
		char name[128], *end;
		size_t n = 0;
		const char *q;

		eol = strchr(p, '\n');
		line++;
		if (eol == p)
			BAD("line %d is empty", line);
		if (!strncmp(p, "# HELP ", 7) || !strncmp(p, "# TYPE ", 7)) {
			bool help = p[2] == 'H';

			for (q = p + 7; q < eol && *q != ' '; q++)
				name[n++] = *q;
			name[n] = 0;
			if (help) {
				for (i = 0; i < nseen; i++)
					if (!strcmp(seen[i], name))
						BAD("line %d: family %s again", line, name);
				snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
				snprintf(family, sizeof(family), "%s", name);
			} else {
				if (strcmp(name, family))
					BAD("line %d: TYPE of %s not after its HELP", line, name);
				q++;
				if (strncmp(q, "gauge\n", 6) && strncmp(q, "counter\n", 8))
					BAD("line %d: type '%.*s'", line, (int)(eol - q), q);
				if (!strncmp(q, "counter", 7) &&
				    strcmp(name + strlen(name) - 6, "_total"))
					BAD("line %d: counter %s without _total", line, name);
			}
			continue;
		}
		if (*p == '#')
			BAD("line %d: stray comment", line);
		for (q = p; q < eol && name_char(*q, q == p); q++)
			name[n++] = *q;
		name[n] = 0;
		if (!n || strcmp(name, family))
			BAD("line %d: sample '%s' outside its family '%s'", line, name, family);
		if (strncmp(name, "dmarefwatch_", 12))
			BAD("line %d: %s lacks the prefix", line, name);
		if (*q == '{') {
			for (q++; *q != '}'; ) {
				if (!name_char(*q, true))
					BAD("line %d: bad label name at '%.10s'", line, q);
				while (name_char(*q, false))
					q++;
				if (q[0] != '=' || q[1] != '"')
					BAD("line %d: label without =\"", line);
				for (q += 2; *q != '"'; q++) {
					if (*q == '\n' || !*q)
						BAD("line %d: unterminated label value", line);
					if (*q == '\\') {
						q++;
						if (*q != '\\' && *q != '"' && *q != 'n')
							BAD("line %d: bad escape \\%c", line, *q);
					}
				}
				q++;
				if (*q == ',')
					q++;
				else if (*q != '}')
					BAD("line %d: junk after label value", line);
			}
			q++;
		}
		if (*q != ' ')
			BAD("line %d: no space before the value", line);
		strtod(q + 1, &end);
		if (end == q + 1 || end != eol)
			BAD("line %d: value '%.*s' (or a timestamp)", line, (int)(eol - q - 1), q + 1);
		for (i = 0; i < nseries; i++)
			if (strlen(series[i]) == (size_t)(q - p) && !strncmp(series[i], p, q - p))
				BAD("line %d: series twice: %.*s", line, (int)(q - p), p);
		if (nseries < 4096)
			series[nseries++] = strndup(p, q - p);
	}
out:
	for (i = 0; i < nseries; i++)
		free(series[i]);
	return ret;
#undef BAD
}

/* dma0 registered with two channels; dma0chan1 taken at t=1s by client_probe */
static struct engine *held_engine(void)
{
	struct engine *e = engine__new();
	struct rw_event ev;

	if (!e)
		return NULL;
	ev = ev_register(S / 2, 0, true);
	ev_kref(&ev, 1, 1);
	feed(e, ev);
	ev = ev_get(S, 0, 1, 0, 1);
	ev_kref(&ev, 1, 2);
	feed(e, ev);
	feed(e, ev_get(S, 0, 0, 0, 1));
	feed(e, ev_release(S + 1000, 0, 0, 1));
	feed(e, ev_put(S + 2000, 0, 0, 1, 0));
	engine__set_hook(e, DMARW_HOOK_CHAN_GET, RW_HOOK_FENTRY, 3, 0);
	engine__set_hook(e, DMARW_HOOK_CHAN_PUT, RW_HOOK_KPROBE, 1, 2);
	engine__set_hook(e, DMARW_HOOK_DEV_RELEASE, RW_HOOK_UNAVAILABLE, 0, 0);
	engine__set_hook_losses(e, DMARW_HOOK_CHAN_GET, 4, 5, 6, 7);
	return e;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
		p += n;
	}
	return false;
}

#define CHECK_LINE(text, l) CHECK(has_line(text, l), "no line '%s' in:\n%s", l, text)
#define CHECK_NO_LINE(text, l) CHECK(!has_line(text, l), "line '%s' should not be there", l)

TEST(prometheus_format_and_values)
{
	struct prom_opts o = { .version = "0.1.0", .kernel = "6.1.0-18-amd64",
			       .start_time_s = 1700000000.5, .now_s = 1700000010.25,
			       .now_ns = 2 * S, .min_age_ns = 10 * S };
	struct rw_event ev;
	struct engine *e = held_engine();
	const char *why;
	char *text = NULL;

	CHECK(e, "engine");
	text = expose(e, &o);
	CHECK(text, "no output");
	why = check_format(text);
	CHECK(!why, "%s\n%s", why, text);
	CHECK_LINE(text, "dmarefwatch_build_info{version=\"0.1.0\",kernel=\"6.1.0-18-amd64\"} 1");
	CHECK_LINE(text, "dmarefwatch_start_time_seconds 1700000000.500");
	CHECK_LINE(text, "dmarefwatch_last_update_timestamp_seconds 1700000010.250");
	CHECK_LINE(text, "dmarefwatch_channel_clients{channel=\"dma0chan1\",device=\"dma0\"} 1");
	CHECK_LINE(text, "dmarefwatch_channel_clients{channel=\"dma0chan0\",device=\"dma0\"} 0");
	CHECK_LINE(text, "dmarefwatch_channel_held_references{channel=\"dma0chan1\",device=\"dma0\"} 1");
	CHECK_LINE(text, "dmarefwatch_channel_leaked_references{channel=\"dma0chan1\",device=\"dma0\"} 0");
	CHECK_LINE(text, "dmarefwatch_channel_gets_total{channel=\"dma0chan0\",device=\"dma0\"} 1");
	CHECK_LINE(text, "dmarefwatch_channel_puts_total{channel=\"dma0chan0\",device=\"dma0\"} 1");
	CHECK_LINE(text, "dmarefwatch_device_kref{device=\"dma0\",dev_name=\"dmarw-prov.0\",driver=\"dmarw_prov\"} 2");
	CHECK_LINE(text, "dmarefwatch_device_state{device=\"dma0\",dev_name=\"dmarw-prov.0\",driver=\"dmarw_prov\",state=\"registered\"} 1");
	CHECK_LINE(text, "dmarefwatch_device_state{device=\"dma0\",dev_name=\"dmarw-prov.0\",driver=\"dmarw_prov\",state=\"released\"} 0");
	CHECK_LINE(text, "dmarefwatch_device_release_callback{device=\"dma0\",dev_name=\"dmarw-prov.0\",driver=\"dmarw_prov\"} 1");
	CHECK_LINE(text, "dmarefwatch_findings_total{kind=\"leaked-reference\",severity=\"error\"} 0");
	CHECK_LINE(text, "dmarefwatch_findings_total{kind=\"get-failed\",severity=\"info\"} 0");
	CHECK_LINE(text, "dmarefwatch_hook_mode{hook=\"dma_chan_get\",mode=\"fentry\"} 1");
	CHECK_LINE(text, "dmarefwatch_hook_mode{hook=\"dma_chan_put\",mode=\"fentry\"} 0");
	CHECK_LINE(text, "dmarefwatch_hook_mode{hook=\"dma_device_release\",mode=\"unavailable\"} 1");
	CHECK_LINE(text, "dmarefwatch_hook_events_total{hook=\"dma_chan_get\"} 3");
	CHECK_LINE(text, "dmarefwatch_hook_events_lost_total{hook=\"dma_chan_put\"} 2");
	CHECK_LINE(text, "dmarefwatch_events_total{event=\"chan-get\"} 2");
	CHECK_LINE(text, "dmarefwatch_events_lost_total 0");
	CHECK_LINE(text, "dmarefwatch_holders 1");
	CHECK_LINE(text, "dmarefwatch_ledger_full_total{hook=\"dma_chan_get\"} 4");
	CHECK_LINE(text, "dmarefwatch_stack_failures_total{hook=\"dma_chan_get\"} 5");
	CHECK_LINE(text, "dmarefwatch_map_update_failures_total{hook=\"dma_chan_get\"} 6");
	CHECK_LINE(text, "dmarefwatch_hook_records_total{hook=\"dma_chan_get\"} 7");
	CHECK_LINE(text, "dmarefwatch_ledger_full_total{hook=\"dma_chan_put\"} 0");
	CHECK_LINE(text, "dmarefwatch_references_unknown_holder 0");
	CHECK_LINE(text, "dmarefwatch_ledger_reads_total 0");
	/* hooks never set are left out, not shown as 0 */
	CHECK(!strstr(text, "hook=\"dmaengine_get\""), "unset hook exported");

	/* past --min-age: long-held (info), no leak: age alone is none */
	free(text);
	engine__scan(e, 12 * S, 10 * S);
	o.now_ns = 12 * S;
	text = expose(e, &o);
	why = check_format(text);
	CHECK(!why, "%s", why);
	CHECK_LINE(text, "dmarefwatch_channel_leaked_references{channel=\"dma0chan1\",device=\"dma0\"} 0");
	CHECK_LINE(text, "dmarefwatch_channel_long_held_references{channel=\"dma0chan1\",device=\"dma0\"} 1");
	CHECK_LINE(text, "dmarefwatch_findings_total{kind=\"leaked-reference\",severity=\"error\"} 0");
	CHECK_LINE(text, "dmarefwatch_findings_total{kind=\"long-held-reference\",severity=\"info\"} 1");
	/* its module unloaded, the kernel still counting it: the leak, at once */
	free(text);
	ev = ev_make(DMARW_EV_MODULE_UNLOAD, 13 * S, -1, -1);
	snprintf(ev.module, sizeof(ev.module), "dmarw_client");
	feed(e, ev);
	CHECK(engine__verify_wanted(e), "verify not asked for");
	engine__verify(e, 13 * S, NULL);
	text = expose(e, &o);
	CHECK_LINE(text, "dmarefwatch_channel_leaked_references{channel=\"dma0chan1\",device=\"dma0\"} 1");
	CHECK_LINE(text, "dmarefwatch_channel_long_held_references{channel=\"dma0chan1\",device=\"dma0\"} 0");
	CHECK_LINE(text, "dmarefwatch_findings_total{kind=\"leaked-reference\",severity=\"error\"} 1");
	CHECK_LINE(text, "dmarefwatch_findings_suppressed_total{kind=\"leaked-reference\",severity=\"error\"} 0");
out:
	free(text);
	engine__free(e);
}

TEST(prometheus_kernel_truth_wins)
{
	struct engine *e = held_engine();
	struct snapshot *truth = snapshot__new("bpf");
	struct snapshot_channel c = { .chan_key = CHAN_KEY(0, 1), .device_key = DEV_KEY(0),
				      .dev_id = 0, .chan_id = 1, .client_count = 3 };
	struct snapshot_device d = { .device_key = DEV_KEY(0), .dev_id = 0, .kref = 4,
				     .has_release = 1, .state = DMARW_DEV_REGISTERED };
	struct prom_opts o = { .truth = truth };
	char *text = NULL;

	CHECK(e && truth, "alloc");
	snapshot__add_channel(truth, &c);
	snapshot__add_device(truth, &d);
	text = expose(e, &o);
	CHECK(!check_format(text), "%s", check_format(text));
	CHECK_LINE(text, "dmarefwatch_channel_clients{channel=\"dma0chan1\",device=\"dma0\"} 3");
	CHECK_LINE(text, "dmarefwatch_channel_clients{channel=\"dma0chan0\",device=\"dma0\"} 0");
	CHECK_LINE(text, "dmarefwatch_device_kref{device=\"dma0\",dev_name=\"dmarw-prov.0\",driver=\"dmarw_prov\"} 4");
	/* optional families are left out when not given */
	CHECK(!strstr(text, "dmarefwatch_start_time_seconds"), "start time without a value");
out:
	free(text);
	snapshot__free(truth);
	engine__free(e);
}

TEST(prometheus_escaping)
{
	struct engine *e = engine__new();
	struct rw_event ev;
	char *buf = NULL, *text = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	CHECK(f, "memstream");
	prom_escape_label(f, "a\\b\"c\nd");
	fputc('|', f);
	prom_escape_help(f, "x\\y\"z\nw");
	fclose(f);
	CHECK_STR(buf, "a\\\\b\\\"c\\nd|x\\\\y\"z\\nw");

	CHECK(e, "engine");
	ev = ev_register(S, 0, false);
	snprintf(ev.dev_name, sizeof(ev.dev_name), "we\"ird\\dev\nname");
	snprintf(ev.drv_name, sizeof(ev.drv_name), "drv\"");
	feed(e, ev);
	text = expose(e, &(struct prom_opts){ .version = "v\"1" });
	CHECK(!check_format(text), "%s\n%s", check_format(text), text);
	CHECK_LINE(text, "dmarefwatch_device_release_callback{device=\"dma0\","
		   "dev_name=\"we\\\"ird\\\\dev\\nname\",driver=\"drv\\\"\"} 0");
	CHECK_LINE(text, "dmarefwatch_build_info{version=\"v\\\"1\",kernel=\"\"} 1");
out:
	free(buf);
	free(text);
	engine__free(e);
}

/*
 * Unbind while held, then a rebind: the new device gets the same dev_id
 * (the kernel frees it at unregister) while the old one waits for its
 * release.  One series per name; the newest device stands for it.
 */
TEST(prometheus_dev_id_reuse_no_duplicates)
{
	struct engine *e = engine__new();
	struct rw_event ev;
	char *text = NULL;

	CHECK(e, "engine");
	feed(e, ev_register(S, 0, true));
	feed(e, ev_get(2 * S, 0, 0, 0, 1));
	feed(e, ev_unreg_begin(3 * S, 0, 1, 1));
	feed(e, ev_unreg_end(3 * S + 10, 0));
	ev = ev_register(4 * S, 0, true);
	ev.device_key = 555;
	feed(e, ev);
	ev = ev_get(5 * S, 0, 0, 0, 1);
	ev.device_key = 555;
	ev.chan_key = 5550;
	feed(e, ev);
	ev = ev_put(6 * S, 0, 0, 1, 0);
	ev.device_key = 555;
	ev.chan_key = 5550;
	feed(e, ev);
	text = expose(e, &(struct prom_opts){ 0 });
	CHECK(!check_format(text), "%s\n%s", check_format(text), text);
	CHECK_LINE(text, "dmarefwatch_channel_clients{channel=\"dma0chan0\",device=\"dma0\"} 0");
	CHECK_LINE(text, "dmarefwatch_device_state{device=\"dma0\",dev_name=\"dmarw-prov.0\",driver=\"dmarw_prov\",state=\"registered\"} 1");
	CHECK_LINE(text, "dmarefwatch_findings_total{kind=\"unregister-with-users\",severity=\"error\"} 1");
out:
	free(text);
	engine__free(e);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len = 0, n;
	char chunk[4096];
	FILE *f = fopen(path, "r"), *m;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	while ((n = fread(chunk, 1, sizeof(chunk), f)))
		fwrite(chunk, 1, n, m);
	fclose(m);
	fclose(f);
	return buf;
}

TEST(prometheus_atomic_file)
{
	struct prom_opts o = { .version = "t" };
	struct engine *e = held_engine();
	char dir[256], path[300], bad[300], err[256] = "", *want = NULL, *got = NULL,
	     *old = NULL;
	char cwd[4096];
	struct stat st;
	int fd = -1;

	CHECK(getcwd(cwd, sizeof(cwd)), "getcwd");
	snprintf(dir, sizeof(dir), "%s/dmarw-prom-XXXXXX", getenv("TMPDIR") ?: "/tmp");
	CHECK(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/dmarefwatch.prom", dir);
	CHECK(!write_file(path, "old complete content\n", 21), "seed");
	/* a reader that opened the old file keeps reading the old file whole */
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0, "open");
	CHECK_INT(prometheus__write_file(path, e, &o, err, sizeof(err)), 0);
	want = expose(e, &o);
	got = slurp(path);
	CHECK(got && !strcmp(got, want), "file differs from the exposition");
	old = calloc(1, 64);
	CHECK_INT(read(fd, old, 63), 21);
	CHECK_STR(old, "old complete content\n");
	CHECK(!stat(path, &st), "stat");
	CHECK_INT(st.st_mode & 07777, 0644);
	/* no temporary file left behind */
	CHECK_INT(count_entries(dir), 1);
	/* again over itself */
	CHECK_INT(prometheus__write_file(path, e, &o, err, sizeof(err)), 0);
	CHECK_INT(count_entries(dir), 1);
	/* a directory that does not exist: an error that names the file */
	snprintf(bad, sizeof(bad), "%s/nosuch/m.prom", dir);
	CHECK_INT(prometheus__write_file(bad, e, &o, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "nosuch/m.prom"), "message '%s' does not name the file", err);
	/* a relative name works too (temporary file in the cwd) */
	CHECK(!chdir(dir), "chdir");
	CHECK_INT(prometheus__write_file("rel.prom", e, &o, err, sizeof(err)), 0);
	CHECK_INT(count_entries(dir), 2);
	unlink("rel.prom");
out:
	if (chdir(cwd))
		fprintf(stderr, "cannot return to %s\n", cwd);
	if (fd >= 0)
		close(fd);
	unlink(path);
	rmdir(dir);
	free(want);
	free(got);
	free(old);
	engine__free(e);
}
