// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * dmarefwatch top: the live view.  The screen model and its layout are
 * plain C (top_model.c, top_screen.c); this file only runs the session,
 * reads keys and draws frames with ncurses, or prints plain frames in batch
 * mode.  The terminal is restored on every way out: q, SIGINT/SIGTERM,
 * errors, and (best effort) crashes.
 */
#define _GNU_SOURCE
#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bpf_session.h"
#include "cli.h"
#include "engine.h"
#include "live.h"
#include "outputs.h"
#include "top_model.h"
#include "top_screen.h"

struct top {
	struct session *s;		/* the holders: its ledger, read at every refresh */
	long long interval_ns;
	long long min_age_ns;
	long batch;		/* frames to print; 0 unlimited; -1 interactive */
	bool batch_given;
	FILE *out;
	struct engine *e;
	struct top_model *m;
	struct top_screen sc;
	struct top_frame fr;
	uint64_t last_ns;
	long frames;
	bool curses;
	bool colour;
	bool quit;
	int err;
};

static SCREEN *top_screen_term;
static volatile sig_atomic_t curses_active;

static void top_usage(FILE *f)
{
	fprintf(f,
		"Usage: dmarefwatch [GLOBAL OPTIONS] top [--interval SEC] [--min-age SEC]\n"
		"       [--batch N]\n"
		"\n"
		"Full-screen live view: each device (name, driver, state, kref,\n"
		"device_release), its channels in use with their client count and\n"
		"holders (task, function [module], age), the findings newest first, and\n"
		"the events seen and lost with the mode of each hook. While a service\n"
		"(watch --service) runs, top shows its holders and leaks, read from its\n"
		"pinned state (the status line says whose); else it traces from now.\n"
		"A reference whose holder is gone (module unloaded, client unbound) is a\n"
		"leaked-reference; one held longer than --min-age by a live holder is\n"
		"long-held (info).\n"
		"  --interval SEC  refresh period (default 1)\n"
		"  --min-age SEC   age that makes a long-held-reference (default 10)\n"
		"  --batch N       print N plain frames, one per interval, and exit\n"
		"                  (0: until SIGINT/SIGTERM); the default, unlimited,\n"
		"                  when stdout is not a terminal or with -o FILE;\n"
		"                  -v also prints every holder's stack\n"
		"Keys: q quit, Up/Down or j/k move, PgUp/PgDn, Enter show or hide the\n"
		"stack (holder, channel, finding) or fold a device, / filter by device\n"
		"(name, driver or glob; empty or Esc clears), s sort (device, clients,\n"
		"age), p pause. NO_COLOR or a terminal without colours: no colours.\n"
		"Exit status: 0, or 2 when tracing is not possible, on bad arguments or\n"
		"when the terminal cannot be used.\n");
}

static int parse_top_opts(int argc, char **argv, struct top *t)
{
	const struct cli_opt opts[] = {
		CLI_SECONDS_OPT("--interval", &t->interval_ns, 100000000LL,
				"seconds (at least 0.1)"),
		CLI_SECONDS_OPT("--min-age", &t->min_age_ns, 0, NULL),
		{ .name = "--batch", .type = CLI_COUNT, .dst = &t->batch, .min = 0,
		  .max = 1000000000L, .takes = "a number of frames", .given = &t->batch_given },
		CLI_OPT_END,
	};
	const struct cli_cmd cmd = {
		.name = "top", .usage = top_usage, .opts = opts, .nargs = 0,
	};
	int r = cli_parse(&cmd, argc, argv, NULL);

	if (r)
		return r;
	if (env.json) {
		p_err("top has no JSON output; use watch --json or run --json");
		return -1;
	}
	return 0;
}

/* ---- the terminal ---- */

static void curses_end(void)
{
	if (!curses_active)
		return;
	curses_active = 0;
	endwin();
	if (top_screen_term)
		delscreen(top_screen_term);
	top_screen_term = NULL;
}

/* A crash must not leave the terminal raw: restore, then die as we would have. */
static void on_fatal(int sig)
{
	if (curses_active)
		endwin();
	signal(sig, SIG_DFL);
	raise(sig);
}

static bool want_colour(void)
{
	const char *nc = getenv("NO_COLOR");

	return !(nc && *nc) && has_colors();
}

static int curses_start(struct top *t)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	const char *term = getenv("TERM");
	size_t i;

	if (!term || !*term || !strcmp(term, "dumb"))
		return -1;
	if (!getenv("ESCDELAY"))
		set_escdelay(25);
	top_screen_term = newterm(NULL, stdout, stdin);
	if (!top_screen_term)
		return -1;
	set_term(top_screen_term);
	curses_active = 1;
	atexit(curses_end);
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], on_fatal);
	cbreak();		/* keys at once; Ctrl-C still raises SIGINT */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	t->colour = want_colour();
	if (t->colour) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_RED, -1);
		init_pair(2, COLOR_YELLOW, -1);
		init_pair(3, COLOR_CYAN, -1);
		init_pair(4, COLOR_GREEN, -1);
	}
	t->curses = true;
	return 0;
}

static chtype attr_of(const struct top *t, enum top_attr a)
{
	switch (a) {
	case TOP_A_TITLE:
	case TOP_A_STATUS:
		return A_REVERSE;
	case TOP_A_HEADER:
		return A_BOLD;
	case TOP_A_DEVICE:
		return t->colour ? (A_BOLD | COLOR_PAIR(4)) : A_BOLD;
	case TOP_A_DIM:
		return A_DIM;
	case TOP_A_ERROR:
		return t->colour ? (A_BOLD | COLOR_PAIR(1)) : A_BOLD;
	case TOP_A_WARNING:
		return t->colour ? COLOR_PAIR(2) : A_NORMAL;
	case TOP_A_INFO:
		return t->colour ? COLOR_PAIR(3) : A_NORMAL;
	default:
		return A_NORMAL;
	}
}

static int draw(struct top *t)
{
	int rows, cols, err;
	size_t i;

	getmaxyx(stdscr, rows, cols);
	err = top_screen__layout(&t->sc, t->m, rows, cols, &t->fr);
	if (err)
		return err;
	erase();
	for (i = 0; i < t->fr.nr && (int)i < rows; i++) {
		const struct top_line *l = &t->fr.lines[i];
		chtype a = attr_of(t, l->attr) | (l->selected ? A_REVERSE : 0);

		attrset(a);
		/* the last cell of the last line would scroll some terminals */
		mvaddnstr((int)i, 0, l->text, (int)i == rows - 1 ? cols - 1 : cols);
		if (l->attr == TOP_A_TITLE || l->attr == TOP_A_STATUS || l->selected) {
			int y, x;

			getyx(stdscr, y, x);
			(void)y;
			for (; x < cols - ((int)i == rows - 1); x++)
				addch(' ');
		}
	}
	attrset(A_NORMAL);
	refresh();
	return 0;
}

static int key_of(int ch)
{
	switch (ch) {
	case KEY_UP:		return TOP_KEY_UP;
	case KEY_DOWN:		return TOP_KEY_DOWN;
	case KEY_PPAGE:		return TOP_KEY_PGUP;
	case KEY_NPAGE:		return TOP_KEY_PGDN;
	case KEY_HOME:		return TOP_KEY_HOME;
	case KEY_END:		return TOP_KEY_END;
	case KEY_ENTER:
	case '\n':
	case '\r':		return TOP_KEY_ENTER;
	case KEY_BACKSPACE:
	case 127:
	case 8:			return TOP_KEY_BACKSPACE;
	case 27:		return TOP_KEY_ESC;
	default:		return ch >= 0x20 && ch < 0x7f ? ch : -1;
	}
}

/* ---- the loop ---- */

static void refresh_model(struct top *t, uint64_t now)
{
	if (t->s)
		session__read_ledger(t->s);
	engine__scan(t->e, now, t->min_age_ns);
	top_model__update(t->m, t->e, now, time(NULL));
}

static int print_frame(struct top *t)
{
	int err = top_screen__layout(&t->sc, t->m, 0, 0, &t->fr);

	if (!err && t->frames)
		fputc('\n', t->out);
	if (!err)
		err = top_frame__print(t->out, &t->fr);
	fflush(t->out);
	t->frames++;
	return err;
}

static int top_tick(void *ctx, uint64_t now)
{
	struct top *t = ctx;
	bool redraw = false;
	int ch, k;

	if (!t->curses) {
		if (now - t->last_ns < (uint64_t)t->interval_ns)
			return 0;
		t->last_ns = now;
		refresh_model(t, now);
		t->err = print_frame(t);
		return t->err || (t->batch && t->frames >= t->batch);
	}
	while ((ch = getch()) != ERR) {
		if (ch == KEY_RESIZE) {
			redraw = true;
			continue;
		}
		k = key_of(ch);
		if (k < 0)
			continue;
		switch (top_model__key(t->m, k)) {
		case TOP_ACT_QUIT:
			t->quit = true;
			return 1;
		case TOP_ACT_REDRAW:
			redraw = true;
			break;
		default:
			break;
		}
	}
	if (now - t->last_ns >= (uint64_t)t->interval_ns) {
		t->last_ns = now;
		refresh_model(t, now);
		redraw = true;
	}
	if (redraw) {
		t->err = draw(t);
		if (t->err)
			return 1;
	}
	return 0;
}

int cmd_top(int argc, char **argv)
{
	struct top t = {
		.interval_ns = 1000000000LL,
		.min_age_ns = 10 * 1000000000LL,
		.batch = -1,
	};
	struct session *s = NULL;
	char err[1024] = "", source[160];
	int r, ret = EXIT_ERROR;
	struct out_file of = { 0 };
	struct dmarw_pin_owner owner;
	bool traced = false;
	uint64_t now;

	r = parse_top_opts(argc, argv, &t);
	if (r)
		return r > 0 ? EXIT_OK : EXIT_ERROR;
	t.out = stdout;
	if (env.output && strcmp(env.output, "-")) {
		/* a temporary file beside FILE: FILE is replaced only once tracing ran */
		t.out = out_file__open(&of, env.output, err, sizeof(err));
		if (!t.out) {
			p_err("%s", err);
			return EXIT_ERROR;
		}
		if (!t.batch_given)
			t.batch = 0;
	}
	if (!t.batch_given && t.batch < 0 && (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)))
		t.batch = 0;
	t.e = engine__new();
	t.m = top_model__new(kernel_release(), t.interval_ns, t.min_age_ns);
	if (!t.e || !t.m)
		goto out;
	top_model__expand_all(t.m, env.verbose);
	live_signals_init();
	/* BPF first: its messages and errors go to a normal terminal */
	r = live_service(&owner, source, sizeof(source));
	if (r < 0)
		goto out;
	if (r > 0 && live_follow(&s, t.e, &owner, err, sizeof(err))) {
		snprintf(source, sizeof(source), "the service's state cannot be read: %.*s",
			 100, err);
		r = 0;
	}
	if (r > 0) {
		p_info("holders from the running %s", source);
	} else {
		if (session__open(&s, t.e, true, NULL, NULL, err, sizeof(err))) {
			p_err("cannot trace here: %s", err);
			goto out;
		}
		p_info("own session: %s; holders of references taken from now on", source);
		snprintf(source, sizeof(source), "own session");
	}
	top_model__set_source(t.m, source);
	t.s = s;
	traced = true;
	if (live_start(s, t.e, NULL))
		goto out;
	if (t.batch < 0 && curses_start(&t)) {
		p_info("cannot drive this terminal (TERM=%s): printing plain frames",
		       getenv("TERM") ? getenv("TERM") : "");
		t.batch = 0;
	}
	now = now_mono_ns();
	/* the first frame at once, the next ones every interval */
	t.last_ns = now;
	refresh_model(&t, now);
	if (t.curses)
		t.err = draw(&t);
	else
		t.err = print_frame(&t);
	if (!t.err && !(t.batch > 0 && t.frames >= t.batch))
		live_loop(s, t.e, NULL, -1, top_tick, &t);
	curses_end();
	if (t.err) {
		p_err("%s", t.err == -EIO ? "cannot write the frames" : "out of memory");
		goto out;
	}
	live_print_lost(t.e);
	ret = EXIT_OK;
out:
	curses_end();
	session__close(s);
	top_frame__free(&t.fr);
	top_model__free(t.m);
	engine__free(t.e);
	if (of.f && out_file__close(&of, traced, err, sizeof(err))) {
		p_err("%s", err);
		ret = EXIT_ERROR;
	}
	return ret;
}
