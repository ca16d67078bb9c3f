/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * JUnit XML: one testcase per finding kind, so CI sees a stable list of
 * test names.  A kind fails when one of its findings fails at --fail-on;
 * its failing findings are the failure body, the others (suppressed or
 * below the level) go to system-out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "report.h"
#include "utf8.h"


/*
 * XML 1.0 cannot carry most control characters even as references: they
 * become "\xNN" text, like invalid UTF-8 bytes.
 */
void xml_escape(FILE *f, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		unsigned char c = s[i];

		switch (c) {
		case '&':  fputs("&amp;", f); i++; continue;
		case '<':  fputs("&lt;", f); i++; continue;
		case '>':  fputs("&gt;", f); i++; continue;
		case '"':  fputs("&quot;", f); i++; continue;
		case '\'': fputs("&apos;", f); i++; continue;
		case '\n': case '\t': fputc(c, f); i++; continue;
		case '\r': fputs("&#13;", f); i++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\x%02x", c);
			i++;
			continue;
		}
		n = utf8_seq(s + i, len - i, &cp);
		if (!n || cp == 0xfffe || cp == 0xffff) {	/* not XML characters */
			fprintf(f, "\\x%02x", c);
			i++;
			continue;
		}
		fwrite(s + i, 1, n, f);
		i += n;
	}
}

static void xml_str(FILE *f, const char *s)
{
	xml_escape(f, s, strlen(s));
}

/* Text block of findings of @kind that do (@failing) or do not fail. */
static char *kind_text(const struct engine *e, enum finding_kind kind, bool failing,
		       enum finding_severity fail_on, size_t *count, size_t *len)
{
	char *buf = NULL;
	FILE *m;
	size_t i;

	*count = 0;
	*len = 0;
	m = open_memstream(&buf, len);
	if (!m)
		return NULL;
	for (i = 0; i < engine__nr_findings(e); i++) {
		const struct finding *fd = engine__finding(e, i);

		if (fd->kind != kind || finding__fails(fd, fail_on) != failing)
			continue;
		(*count)++;
		report__text_finding(m, e, fd, false);
	}
	if (fclose(m)) {
		free(buf);
		return NULL;
	}
	return buf;
}

int report__junit(FILE *f, const struct engine *e, const struct report_opts *o)
{
	const char *suite = o->suite ? o->suite : "dmarefwatch";
	size_t failures = 0, nfail, nother, lfail, lother;
	double secs = 0;
	const struct engine_stats *st = engine__stats(e);
	int k, ret = 0;

	for (k = 0; k < FINDING_KIND_MAX; k++) {
		size_t i;

		for (i = 0; i < engine__nr_findings(e); i++) {
			const struct finding *fd = engine__finding(e, i);

			if ((int)fd->kind == k && finding__fails(fd, o->fail_on)) {
				failures++;
				break;
			}
		}
	}
	if (st->last_ts_ns > st->first_ts_ns)
		secs = (double)(st->last_ts_ns - st->first_ts_ns) / 1e9;

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<testsuites name=\"");
	xml_str(f, suite);
	fprintf(f, "\" tests=\"%d\" failures=\"%zu\" errors=\"0\" time=\"%.3f\">\n",
		FINDING_KIND_MAX, failures, secs);
	fprintf(f, "  <testsuite name=\"");
	xml_str(f, suite);
	fprintf(f, "\" tests=\"%d\" failures=\"%zu\" errors=\"0\" skipped=\"0\" "
		"time=\"%.3f\">\n", FINDING_KIND_MAX, failures, secs);
	if (o->command || o->kernel) {
		fputs("    <properties>\n", f);
		if (o->command) {
			fputs("      <property name=\"command\" value=\"", f);
			xml_str(f, o->command);
			fputs("\"/>\n", f);
		}
		if (o->kernel) {
			fputs("      <property name=\"kernel\" value=\"", f);
			xml_str(f, o->kernel);
			fputs("\"/>\n", f);
		}
		fputs("    </properties>\n", f);
	}
	for (k = 0; k < FINDING_KIND_MAX; k++) {
		const char *name = finding_kind_name((enum finding_kind)k);
		char *fail_txt, *other_txt;

		fail_txt = kind_text(e, (enum finding_kind)k, true, o->fail_on, &nfail, &lfail);
		other_txt = kind_text(e, (enum finding_kind)k, false, o->fail_on, &nother, &lother);
		if (!fail_txt || !other_txt) {
			free(fail_txt);
			free(other_txt);
			ret = -ENOMEM;
			break;
		}
		fprintf(f, "    <testcase classname=\"");
		xml_str(f, suite);
		fprintf(f, ".findings\" name=\"%s\" time=\"0\"", name);
		if (!nfail && !nother) {
			fputs("/>\n", f);
		} else {
			fputs(">\n", f);
			if (nfail) {
				fprintf(f, "      <failure type=\"%s\" message=\"%zu %s finding%s "
					"(severity %s)\">", name, nfail, name, nfail == 1 ? "" : "s",
					finding_severity_name(finding_kind_severity((enum finding_kind)k)));
				xml_escape(f, fail_txt, lfail);
				fputs("</failure>\n", f);
			}
			if (nother) {
				fputs("      <system-out>", f);
				xml_escape(f, other_txt, lother);
				fputs("</system-out>\n", f);
			}
			fputs("    </testcase>\n", f);
		}
		free(fail_txt);
		free(other_txt);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
	if (!ret && ferror(f))
		ret = -EIO;
	return ret;
}
