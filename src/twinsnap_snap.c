/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * twinsnap_snap — the CLI's snapshot and event commands: snapshot
 * create/list/show/delete, snapshots enable/disable, events [--follow].
 * Each command checks its arguments completely before it sends anything
 * (a usage error is exit 2 even when the agent is down), asks twinsnapd
 * through twinsnap_cli, and prints a table or key/value lines, or with
 * --json the documents of CLI.md.  Everything the agent hands back that a
 * user typed (names, descriptions) goes through twinsnap_text on its way to
 * a terminal.
 */
#include "config.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "twinsnap_cli.h"
#include "twinsnap_snapjson.h"
#include "twinsnap_text.h"

#define CREATE_TIMEOUT_MS 120000
#define DELETE_TIMEOUT_MS 60000
#define EVENTS_PAGE 1000
#define FOLLOW_INTERVAL_MS 500

/* ---- small helpers ------------------------------------------------------------ */

/* Print one line built from @fmt on @f, made safe for a terminal as a whole. */
static void say(FILE *f, bool newline, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(FILE *f, bool newline, const char *fmt, ...)
{
	char *line = NULL, *safe;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	safe = text_safe(line, 0, NULL);
	fprintf(f, "%s%s", safe, newline ? "\n" : "");
	free(line);
	free(safe);
}

/* @v joined with @sep, or @none when empty; malloc'd. */
static char *join(char *const *v, size_t n, const char *sep, const char *none)
{
	size_t len = 1;
	char *out;

	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + strlen(sep);
	out = malloc(len + strlen(none));
	if (!out)
		abort();
	strcpy(out, n ? "" : none);
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(out, sep);
		strcat(out, v[i]);
	}
	return out;
}

static bool one_of(const char *s, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (strcmp(s, *allowed) == 0)
			return true;
	return false;
}

/* ---- snapshot create ----------------------------------------------------------- */

enum { CR_VOLUME, CR_NAME, CR_DESCRIPTION, CR_CONSISTENCY, CR_MEMORY, CR_NO_WAIT, CR_COUNT };

static const struct cli_opt create_opts[CR_COUNT] = {
	[CR_VOLUME] = { "--volume", CLI_OPT_LIST },
	[CR_NAME] = { "--name", CLI_OPT_VALUE },
	[CR_DESCRIPTION] = { "--description", CLI_OPT_VALUE },
	[CR_CONSISTENCY] = { "--consistency", CLI_OPT_VALUE },
	[CR_MEMORY] = { "--memory", CLI_OPT_FLAG },
	[CR_NO_WAIT] = { "--no-wait", CLI_OPT_FLAG },
};

static const struct cli_spec create_spec = {
	.cmd = "snapshot create", .pos = { "VM" }, .opts = create_opts, .n_opts = CR_COUNT,
};

static int create_check(const struct cli *cli, const struct cli_args *a)
{
	static const char *const consistencies[] = { "crash", "application", "auto", NULL };
	const struct cli_optval *cons = &a->opt[CR_CONSISTENCY];

	if (a->pos[0][0] == '\0')
		return cli_usage(cli, "snapshot create: VM must not be empty");
	for (size_t i = 0; i < a->opt[CR_VOLUME].n; i++)
		if (a->opt[CR_VOLUME].list[i][0] == '\0')
			return cli_usage(cli, "snapshot create: --volume needs a volume name");
	if (cons->set && !one_of(cons->value, consistencies))
		return cli_usage(cli, "snapshot create: --consistency must be crash, application "
				 "or auto, not '%s'", cons->value);
	if (a->opt[CR_MEMORY].set)
		return cli_usage(cli, "snapshot create: --memory is not supported yet");
	return EXIT_OK;
}

static void create_print(const struct cli *cli, const Twinsnap__Snapshot *s)
{
	char *on;

	if (cli->json) {
		cli_print_json(cli, snapjson_object(s));
		return;
	}
	if (strcmp(snapjson_state(s), "normal") != 0) {
		say(stdout, true, "Snapshot %s of %s created (broken until both PMs commit).",
		    s->id, s->vm);
		return;
	}
	on = join(s->committed_on, s->n_committed_on, ", ", "-");
	say(stdout, true, "Snapshot %s of %s is normal on %s (consistency: %s).", s->id, s->vm,
	    on, snapjson_shown(s));
	free(on);
}

int snap_cmd_create(const struct cli *cli, int argc, char **argv)
{
	Twinsnap__Request rq = TWINSNAP__REQUEST__INIT;
	Twinsnap__SnapshotCreateRequest cr = TWINSNAP__SNAPSHOT_CREATE_REQUEST__INIT;
	Twinsnap__Reply *r = NULL;
	struct cli_args a;
	int rc = cli_parse(cli, &create_spec, argc, argv, &a);

	if (rc == EXIT_OK)
		rc = create_check(cli, &a);
	if (rc != EXIT_OK)
		goto out_args;
	cr.vm = a.pos[0];
	cr.volumes = a.opt[CR_VOLUME].list;
	cr.n_volumes = a.opt[CR_VOLUME].n;
	if (a.opt[CR_NAME].set)
		cr.name = (char *)a.opt[CR_NAME].value;
	if (a.opt[CR_DESCRIPTION].set)
		cr.description = (char *)a.opt[CR_DESCRIPTION].value;
	if (a.opt[CR_CONSISTENCY].set)
		cr.consistency = (char *)a.opt[CR_CONSISTENCY].value;
	cr.no_wait = a.opt[CR_NO_WAIT].set;
	rq.body_case = TWINSNAP__REQUEST__BODY_SNAPSHOT_CREATE;
	rq.snapshot_create = &cr;
	rc = cli_call(cli, &rq, CREATE_TIMEOUT_MS, cr.no_wait ? "creating the snapshot..."
		      : "waiting for both PMs to commit...", &r);
	if (rc != EXIT_OK || (rc = cli_expect(cli, r, TWINSNAP__REPLY__BODY_SNAPSHOT)) != EXIT_OK)
		goto out_args;
	create_print(cli, r->snapshot);
	twinsnap__reply__free_unpacked(r, NULL);
out_args:
	cli_args_free(&a);
	return rc;
}

/* ---- snapshot list ------------------------------------------------------------------ */

enum { LS_VM, LS_STATE, LS_COUNT };

static const struct cli_opt list_opts[LS_COUNT] = {
	[LS_VM] = { "--vm", CLI_OPT_VALUE },
	[LS_STATE] = { "--state", CLI_OPT_VALUE },
};

static const struct cli_spec list_spec = {
	.cmd = "snapshot list", .pos = { NULL }, .opts = list_opts, .n_opts = LS_COUNT,
};

enum { COL_ID, COL_VM, COL_NAME, COL_CREATED, COL_STATE, COL_VOLUMES, COL_COMMITTED, COL_COUNT };

static const struct column {
	const char *title;
	int max;                /* columns; longer cells end in "…" */
} list_columns[COL_COUNT] = {
	[COL_ID] = { "ID", 32 },
	[COL_VM] = { "VM", 20 },
	[COL_NAME] = { "Name", 24 },
	[COL_CREATED] = { "Created", 19 },
	[COL_STATE] = { "State", 8 },
	[COL_VOLUMES] = { "Volumes", 30 },
	[COL_COMMITTED] = { "Committed on", 20 },
};

/* The cells of one row, raw (made safe when printed); free with row_free(). */
static void row_fill(const Twinsnap__Snapshot *s, char *cell[COL_COUNT])
{
	char created[TEXT_TIME_LEN];

	text_time_local(s->created_at_ms, created);
	cell[COL_ID] = strdup(s->id);
	cell[COL_VM] = strdup(s->vm);
	cell[COL_NAME] = strdup(s->name);
	cell[COL_CREATED] = strdup(created);
	cell[COL_STATE] = strdup(snapjson_state(s));
	cell[COL_VOLUMES] = join(s->volumes, s->n_volumes, ",", "-");
	cell[COL_COMMITTED] = join(s->committed_on, s->n_committed_on, ",", "-");
	for (size_t c = 0; c < COL_COUNT; c++)
		if (!cell[c])
			abort();
}

static void row_print(char *const cell[COL_COUNT], const int width[COL_COUNT])
{
	for (size_t c = 0; c < COL_COUNT; c++) {
		fputs(c ? "  " : " ", stdout);
		text_cell(stdout, cell[c], c + 1 < COL_COUNT ? width[c] : 0, list_columns[c].max);
	}
	fputc('\n', stdout);
}

/* Like virsh snapshot-list: columns as wide as their widest cell, within limits. */
static void print_snapshot_table(Twinsnap__Snapshot **snaps, size_t n)
{
	char *(*cells)[COL_COUNT] = calloc(n ? n : 1, sizeof(*cells));
	char *title[COL_COUNT];
	int width[COL_COUNT], total = 0;

	if (!cells)
		abort();
	for (size_t c = 0; c < COL_COUNT; c++) {
		title[c] = (char *)list_columns[c].title;
		width[c] = text_width(title[c]);
	}
	for (size_t i = 0; i < n; i++) {
		row_fill(snaps[i], cells[i]);
		for (size_t c = 0; c < COL_COUNT; c++) {
			int w = text_width(cells[i][c]);

			w = w > list_columns[c].max ? list_columns[c].max : w;
			width[c] = w > width[c] ? w : width[c];
		}
	}
	row_print(title, width);
	for (size_t c = 0; c < COL_COUNT; c++)
		total += width[c] + 2;
	for (int i = 0; i < total; i++)
		fputc('-', stdout);
	fputc('\n', stdout);
	for (size_t i = 0; i < n; i++) {
		row_print(cells[i], width);
		for (size_t c = 0; c < COL_COUNT; c++)
			free(cells[i][c]);
	}
	free(cells);
}

static int list_check(const struct cli *cli, const struct cli_args *a)
{
	static const char *const states[] = { "broken", "normal", NULL };

	if (a->opt[LS_VM].set && a->opt[LS_VM].value[0] == '\0')
		return cli_usage(cli, "snapshot list: --vm needs a VM name");
	if (a->opt[LS_STATE].set && !one_of(a->opt[LS_STATE].value, states))
		return cli_usage(cli, "snapshot list: --state must be broken or normal, not '%s'",
				 a->opt[LS_STATE].value);
	return EXIT_OK;
}

/*
 * Where the pages go.  The table needs every row for its column widths, so
 * it keeps the pages; --json streams each page's rows as they arrive, in
 * the very bytes of one json-c document of all rows, and needs a page only
 * until it is printed: the pages are unpacked into one arena, emptied by
 * the next page.
 */
struct list_out {
	struct cli cli;                 /* the caller's, with .stream set for --json */
	struct jstream js;
	struct ts_arena *arena;         /* --json */
	Twinsnap__Reply **pages;        /* the table's */
	size_t n_pages, cap, n_rows;
};

static void list_take(struct list_out *out, Twinsnap__Reply *r)
{
	const Twinsnap__SnapshotListReply *l = r->snapshot_list;

	if (!out->cli.json) {
		if (out->n_pages == out->cap) {
			out->cap = out->cap ? out->cap * 2 : 16;
			out->pages = realloc(out->pages, out->cap * sizeof(*out->pages));
			if (!out->pages)
				abort();
		}
		out->pages[out->n_pages++] = r;
		out->n_rows += l->n_snapshots;
		return;
	}
	if (!out->js.open)
		jstream_begin(&out->js, stdout, "snapshots", !out->cli.ndjson);
	for (size_t i = 0; i < l->n_snapshots; i++)
		snapjson_write(&out->js, l->snapshots[i]);
	jstream_flush(&out->js);       /* a reader sees each page as it comes */
}

static void list_finish(struct list_out *out)
{
	Twinsnap__Snapshot **all;
	size_t n = 0;

	if (out->cli.json) {
		jstream_end(&out->js, NULL);
		return;
	}
	all = calloc(out->n_rows + 1, sizeof(*all));
	if (!all)
		abort();
	for (size_t p = 0; p < out->n_pages; p++)
		for (size_t i = 0; i < out->pages[p]->snapshot_list->n_snapshots; i++)
			all[n++] = out->pages[p]->snapshot_list->snapshots[i];
	print_snapshot_table(all, n);
	free(all);
}

static void list_out_free(struct list_out *out)
{
	for (size_t p = 0; p < out->n_pages; p++)
		twinsnap__reply__free_unpacked(out->pages[p], NULL);
	free(out->pages);
	ts_arena_destroy(out->arena);
}

/* The next page: into the arena with --json, on its own for the table. */
static int list_recv(struct list_out *out, struct ts_client *c, Twinsnap__Reply **r)
{
	int rc;

	if (!out->arena) {
		rc = cli_recv(&out->cli, c, CLI_TIMEOUT_MS, NULL, r);
		if (rc == EXIT_OK)
			rc = cli_expect(&out->cli, *r, TWINSNAP__REPLY__BODY_SNAPSHOT_LIST);
		return rc;
	}
	rc = cli_recv_arena(&out->cli, c, CLI_TIMEOUT_MS, out->arena, r);
	if (rc == EXIT_OK)
		rc = cli_expect_kept(&out->cli, *r, TWINSNAP__REPLY__BODY_SNAPSHOT_LIST);
	return rc;
}

static void list_drop(struct list_out *out, Twinsnap__Reply *r)
{
	if (!out->arena)
		twinsnap__reply__free_unpacked(r, NULL);
}

/*
 * The agent answers a page at a time (an IPC message is bounded); ask after
 * the last row until it says there is no more.  The next page is asked for
 * as soon as a page is in, before it is printed, so that the agent reads
 * and packs one page while this prints the one before.  A failure after
 * rows went out with --json ends the document with an "error" member
 * (cli_fail()).
 */
int snap_cmd_list(const struct cli *cli, int argc, char **argv)
{
	Twinsnap__Request rq = TWINSNAP__REQUEST__INIT;
	Twinsnap__SnapshotListRequest lr = TWINSNAP__SNAPSHOT_LIST_REQUEST__INIT;
	struct list_out out = { .cli = *cli };
	struct ts_client *c = NULL;
	struct cli_args a;
	bool more = true;
	int rc = cli_parse(cli, &list_spec, argc, argv, &a);

	if (rc == EXIT_OK)
		rc = list_check(cli, &a);
	if (rc != EXIT_OK)
		goto out_args;
	out.cli.stream = &out.js;
	if (cli->json && !(out.arena = ts_arena_create()))
		abort();        /* as any allocation of the CLI's */
	if (a.opt[LS_VM].set)
		lr.vm = (char *)a.opt[LS_VM].value;
	if (a.opt[LS_STATE].set)
		lr.state = (char *)a.opt[LS_STATE].value;
	rq.body_case = TWINSNAP__REQUEST__BODY_SNAPSHOT_LIST;
	rq.snapshot_list = &lr;
	if ((rc = cli_connect(&out.cli, &c)) != EXIT_OK)
		goto out_args;
	if ((rc = cli_send(&out.cli, c, &rq)) != EXIT_OK)
		goto out;
	while (more) {
		Twinsnap__Reply *r = NULL;
		const Twinsnap__SnapshotListReply *l;

		if ((rc = list_recv(&out, c, &r)) != EXIT_OK)
			goto out;
		l = r->snapshot_list;
		/* a page without rows cannot move the cursor: stop rather than loop */
		more = l->more && l->n_snapshots > 0;
		if (more) {
			const Twinsnap__Snapshot *last = l->snapshots[l->n_snapshots - 1];

			lr.after_set = true;
			lr.after_created_ms = last->created_at_ms;
			lr.after_id = last->id;
			if ((rc = cli_send(&out.cli, c, &rq)) != EXIT_OK) {
				list_drop(&out, r);
				goto out;
			}
		}
		list_take(&out, r);     /* prints it (--json), or keeps it (the table) */
	}
	list_finish(&out);
out:
	list_out_free(&out);
	ts_client_close(c);
out_args:
	cli_args_free(&a);
	return rc;
}

/* ---- snapshot show -------------------------------------------------------------------- */

static const struct cli_spec show_spec = {
	.cmd = "snapshot show", .pos = { "ID" }, .opts = NULL, .n_opts = 0,
};

/* Ask for snapshot @id; EXIT_OK with *r holding it, else reported. */
static int show_request(const struct cli *cli, const char *id, Twinsnap__Reply **r)
{
	Twinsnap__Request rq = TWINSNAP__REQUEST__INIT;
	Twinsnap__SnapshotShowRequest sr = TWINSNAP__SNAPSHOT_SHOW_REQUEST__INIT;
	int rc;

	sr.id = (char *)id;
	rq.body_case = TWINSNAP__REQUEST__BODY_SNAPSHOT_SHOW;
	rq.snapshot_show = &sr;
	rc = cli_call(cli, &rq, CLI_TIMEOUT_MS, NULL, r);
	if (rc != EXIT_OK)
		return rc;
	return cli_expect(cli, *r, TWINSNAP__REPLY__BODY_SNAPSHOT);
}

static void show_volumes(const Twinsnap__Snapshot *s)
{
	int w = 0;

	for (size_t i = 0; i < s->n_volumes; i++) {
		int vw = text_width(s->volumes[i]);

		w = vw > w ? vw : w;
	}
	w = w > 32 ? 32 : w;
	printf("%-16s", "Volumes:");
	if (s->n_volumes == 0)
		printf("none\n");
	for (size_t i = 0; i < s->n_volumes; i++) {
		char size[TEXT_SIZE_LEN];

		printf("%*s", i ? 16 : 0, "");
		text_cell(stdout, s->volumes[i], w, 32);
		if (i < s->n_volume_bytes) {
			text_size(s->volume_bytes[i], size);
			printf("  %s (%llu bytes)\n", size, (unsigned long long)s->volume_bytes[i]);
		} else {
			printf("  size unknown\n");
		}
	}
}

static void show_print_human(const Twinsnap__Snapshot *s)
{
	char created[TEXT_TIME_LEN], *on = join(s->committed_on, s->n_committed_on, ", ", "none");

	text_time_local(s->created_at_ms, created);
	say(stdout, true, "%-16s%s", "ID:", s->id);
	say(stdout, true, "%-16s%s", "VM:", s->vm);
	say(stdout, true, "%-16s%s", "Name:", s->name);
	say(stdout, true, "%-16s%s", "Description:", s->description[0] ? s->description : "-");
	say(stdout, true, "%-16s%s", "State:", snapjson_state(s));
	say(stdout, true, "%-16s%s", "Phase:", s->phase);
	say(stdout, true, "%-16s%s (requested: %s)", "Consistency:",
	    snapjson_achieved(s) ? snapjson_achieved(s) : "not yet achieved",
	    snapjson_requested(s));
	show_volumes(s);
	say(stdout, true, "%-16s%s", "Created:", created);
	printf("%-16s%u\n", "Primary node:", s->primary);
	printf("%-16s%u\n", "Secondary node:", s->secondary);
	say(stdout, true, "%-16s%s", "Committed on:", on);
	printf("%-16s%zu bytes\n", "Domain XML:", strlen(s->domain_xml));
	free(on);
}

int snap_cmd_show(const struct cli *cli, int argc, char **argv)
{
	Twinsnap__Reply *r = NULL;
	struct cli_args a;
	int rc = cli_parse(cli, &show_spec, argc, argv, &a);

	if (rc == EXIT_OK && a.pos[0][0] == '\0')
		rc = cli_usage(cli, "snapshot show: ID must not be empty");
	if (rc != EXIT_OK || (rc = show_request(cli, a.pos[0], &r)) != EXIT_OK)
		goto out_args;
	if (cli->json) {
		struct json_object *o = snapjson_object(r->snapshot);

		json_object_object_add(o, "domain_xml", snapjson_str(r->snapshot->domain_xml));
		cli_print_json(cli, o);
	} else {
		show_print_human(r->snapshot);
	}
	twinsnap__reply__free_unpacked(r, NULL);
out_args:
	cli_args_free(&a);
	return rc;
}

/* ---- snapshot delete --------------------------------------------------------------- */

enum { DL_YES, DL_COUNT };

static const struct cli_opt delete_opts[DL_COUNT] = {
	[DL_YES] = { "--yes", CLI_OPT_FLAG },
};

static const struct cli_spec delete_spec = {
	.cmd = "snapshot delete", .pos = { "ID" }, .opts = delete_opts, .n_opts = DL_COUNT,
};

static bool answer_is_yes(FILE *in)
{
	char *line = NULL, *p;
	size_t cap = 0;
	bool yes = false;

	if (getline(&line, &cap, in) >= 0) {
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		p[strcspn(p, " \t\r\n")] = '\0';
		yes = strcasecmp(p, "y") == 0 || strcasecmp(p, "yes") == 0;
	} else {
		fputc('\n', stderr);    /* end of input: end the prompt's line */
	}
	free(line);
	return yes;
}

/* Ask the admin, naming the VM; EXIT_OK only for "y" or "yes". */
static int delete_confirm(const struct cli *cli, const char *id)
{
	Twinsnap__Reply *r = NULL;
	int rc = show_request(cli, id, &r);

	if (rc != EXIT_OK)
		return rc;
	say(stderr, false, "Delete snapshot %s of %s on both PMs? [y/N] ", r->snapshot->id,
	    r->snapshot->vm);
	fflush(stderr);
	twinsnap__reply__free_unpacked(r, NULL);
	if (!answer_is_yes(stdin))
		return cli_fail(cli, EXIT_FAILED, "not_deleted", "not deleted");
	return EXIT_OK;
}

static int delete_request(const struct cli *cli, const char *id)
{
	Twinsnap__Request rq = TWINSNAP__REQUEST__INIT;
	Twinsnap__SnapshotDeleteRequest dr = TWINSNAP__SNAPSHOT_DELETE_REQUEST__INIT;
	Twinsnap__Reply *r = NULL;
	int rc;

	dr.id = (char *)id;
	rq.body_case = TWINSNAP__REQUEST__BODY_SNAPSHOT_DELETE;
	rq.snapshot_delete = &dr;
	rc = cli_call(cli, &rq, DELETE_TIMEOUT_MS, "deleting on both PMs...", &r);
	if (rc != EXIT_OK)
		return rc;
	twinsnap__reply__free_unpacked(r, NULL);
	if (cli->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "deleted", snapjson_str(id));
		cli_print_json(cli, o);
	} else {
		say(stdout, true, "Snapshot %s deleted on both PMs.", id);
	}
	return EXIT_OK;
}

int snap_cmd_delete(const struct cli *cli, int argc, char **argv)
{
	struct cli_args a;
	int rc = cli_parse(cli, &delete_spec, argc, argv, &a);
	bool yes = a.opt[DL_YES].set;

	if (rc == EXIT_OK && a.pos[0][0] == '\0')
		rc = cli_usage(cli, "snapshot delete: ID must not be empty");
	if (rc == EXIT_OK && !yes && !isatty(STDIN_FILENO))
		rc = cli_usage(cli, "snapshot delete: refusing to delete without --yes when "
			       "not interactive");
	if (rc == EXIT_OK && !yes)
		rc = delete_confirm(cli, a.pos[0]);
	if (rc == EXIT_OK)
		rc = delete_request(cli, a.pos[0]);
	cli_args_free(&a);
	return rc;
}

/* ---- snapshots enable | disable ---------------------------------------------------- */

static int snaps_enable(const struct cli *cli, int argc, bool enable)
{
	Twinsnap__Request rq = TWINSNAP__REQUEST__INIT;
	Twinsnap__SnapshotsEnableRequest er = TWINSNAP__SNAPSHOTS_ENABLE_REQUEST__INIT;
	Twinsnap__Reply *r = NULL;
	int rc;

	if (argc != 0)
		return cli_usage(cli, "snapshots %s takes no arguments",
				 enable ? "enable" : "disable");
	er.enable = enable;
	rq.body_case = TWINSNAP__REQUEST__BODY_SNAPSHOTS_ENABLE;
	rq.snapshots_enable = &er;
	rc = cli_call(cli, &rq, CLI_TIMEOUT_MS, NULL, &r);
	if (rc != EXIT_OK)
		return rc;
	twinsnap__reply__free_unpacked(r, NULL);
	if (cli->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "snapshots_enabled", json_object_new_boolean(enable));
		cli_print_json(cli, o);
	} else {
		printf("Snapshots %s.\n", enable ? "enabled" : "disabled");
	}
	return EXIT_OK;
}

int snap_cmd_enable(const struct cli *cli, int argc, char **argv)
{
	return snaps_enable(cli, argc, true);
}

int snap_cmd_disable(const struct cli *cli, int argc, char **argv)
{
	return snaps_enable(cli, argc, false);
}

/* ---- events [--follow] --------------------------------------------------------------- */

enum { EV_FOLLOW, EV_COUNT };

static const struct cli_opt events_opts[EV_COUNT] = {
	[EV_FOLLOW] = { "--follow", CLI_OPT_FLAG },
};

static const struct cli_spec events_spec = {
	.cmd = "events", .pos = { NULL }, .opts = events_opts, .n_opts = EV_COUNT,
};

/* Where events go: a table, one JSON array, or (following, --json) ndjson lines. */
struct event_out {
	const struct cli *cli;
	struct json_object *all;        /* --json without --follow */
	int64_t last_seq;
};

static struct json_object *event_json(const Twinsnap__Event *e)
{
	struct json_object *o = json_object_new_object();
	char when[TEXT_TIME_LEN];

	text_time_utc(e->time_ms, when);
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "kind", snapjson_str(e->kind));
	json_object_object_add(o, "snapshot", snapjson_str(e->snapshot));
	json_object_object_add(o, "vm", snapjson_str(e->vm));
	json_object_object_add(o, "reason", snapjson_str(e->reason));
	json_object_object_add(o, "message", snapjson_str(e->message));
	json_object_object_add(o, "seq", json_object_new_int64(e->seq));
	return o;
}

enum { EC_TIME, EC_KIND, EC_VM, EC_SNAPSHOT, EC_REASON, EC_MESSAGE, EC_COUNT };

/* Fixed widths, since lines are printed as they come; longer cells push on. */
static const struct event_column {
	const char *title;
	int min, max;           /* pad to min, cut at max (0: never) */
} event_columns[EC_COUNT] = {
	[EC_TIME] = { "TIME", 19, 19 },
	[EC_KIND] = { "KIND", 18, 24 },
	[EC_VM] = { "VM", 16, 20 },
	[EC_SNAPSHOT] = { "SNAPSHOT", 32, 32 },
	[EC_REASON] = { "REASON", 12, 20 },
	[EC_MESSAGE] = { "MESSAGE", 0, 0 },
};

static void event_line(char *const f[EC_COUNT])
{
	for (size_t c = 0; c < EC_COUNT; c++) {
		fputs(c ? "  " : "", stdout);
		text_cell(stdout, f[c][0] ? f[c] : "-", event_columns[c].min, event_columns[c].max);
	}
	fputc('\n', stdout);
}

static void event_header(void)
{
	char *f[EC_COUNT];

	for (size_t c = 0; c < EC_COUNT; c++)
		f[c] = (char *)event_columns[c].title;
	event_line(f);
}

static void event_emit(struct event_out *out, const Twinsnap__Event *e)
{
	if (e->seq > out->last_seq)
		out->last_seq = e->seq;
	if (out->all) {
		json_object_array_add(out->all, event_json(e));
	} else if (out->cli->json) {
		cli_print_json(out->cli, event_json(e));
	} else {
		char when[TEXT_TIME_LEN];
		char *f[EC_COUNT] = {
			[EC_TIME] = when, [EC_KIND] = e->kind, [EC_VM] = e->vm,
			[EC_SNAPSHOT] = e->snapshot, [EC_REASON] = e->reason, [EC_MESSAGE] = e->message,
		};

		text_time_local(e->time_ms, when);
		event_line(f);
	}
}

/*
 * Set from SIGINT/SIGTERM while following (a handler has no context, hence
 * globals).  Within a request the handler exits at once: stdout is flushed
 * before each request, and waiting out a hung agent is no way to stop.
 */
static volatile sig_atomic_t follow_stop, in_request;

static void on_stop_signal(int sig)
{
	if (in_request)
		_exit(EXIT_OK);
	follow_stop = 1;
}

static int events_fetch(const struct cli *cli, struct ts_client *c, int64_t after,
			Twinsnap__Reply **r)
{
	Twinsnap__Request rq = TWINSNAP__REQUEST__INIT;
	Twinsnap__EventsRequest er = TWINSNAP__EVENTS_REQUEST__INIT;
	int rc;

	er.after_seq = after;
	er.limit = EVENTS_PAGE;
	rq.body_case = TWINSNAP__REQUEST__BODY_EVENTS;
	rq.events = &er;
	fflush(stdout);
	in_request = 1;
	rc = cli_request(cli, c, &rq, CLI_TIMEOUT_MS, NULL, r);
	in_request = 0;
	if (rc != EXIT_OK)
		return rc;
	return cli_expect(cli, *r, TWINSNAP__REPLY__BODY_EVENTS);
}

/* Emit every event after out->last_seq the agent holds, a page at a time. */
static int events_drain(const struct cli *cli, struct ts_client *c, struct event_out *out)
{
	for (;;) {
		int64_t after = out->last_seq;
		Twinsnap__Reply *r = NULL;
		size_t n;
		int rc = events_fetch(cli, c, after, &r);

		if (rc != EXIT_OK)
			return rc;
		n = r->events->n_events;
		for (size_t i = 0; i < n; i++)
			if (r->events->events[i]->seq > after)
				event_emit(out, r->events->events[i]);
		twinsnap__reply__free_unpacked(r, NULL);
		fflush(stdout);
		/* A short page is the last; no progress means the agent ignores after_seq. */
		if (n < EVENTS_PAGE || out->last_seq == after)
			return EXIT_OK;
	}
}

static int events_follow(const struct cli *cli, struct ts_client *c, struct event_out *out)
{
	const struct timespec pause = { .tv_sec = 0, .tv_nsec = FOLLOW_INTERVAL_MS * 1000000L };
	struct sigaction sa;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!follow_stop) {
		nanosleep(&pause, NULL);
		if (follow_stop)
			break;
		rc = events_drain(cli, c, out);
		if (rc != EXIT_OK)
			return rc;
	}
	return EXIT_OK;
}

int snap_cmd_events(const struct cli *cli, int argc, char **argv)
{
	/* Following with --json is ndjson: every line a document, errors too. */
	struct cli fcli = *cli;
	struct event_out out = { .cli = &fcli, .all = NULL, .last_seq = 0 };
	struct ts_client *c = NULL;
	struct cli_args a;
	bool follow;
	int rc = cli_parse(cli, &events_spec, argc, argv, &a);

	follow = a.opt[EV_FOLLOW].set;
	cli_args_free(&a);
	fcli.ndjson = follow;
	if (rc != EXIT_OK || (rc = cli_connect(&fcli, &c)) != EXIT_OK)
		return rc;
	if (cli->json && !follow)
		out.all = json_object_new_array();
	if (!cli->json)
		event_header();
	rc = events_drain(&fcli, c, &out);
	if (rc == EXIT_OK && follow)
		rc = events_follow(&fcli, c, &out);
	ts_client_close(c);
	if (out.all && rc == EXIT_OK) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "events", out.all);
		cli_print_json(cli, o);
	} else if (out.all) {
		json_object_put(out.all);
	}
	return rc;
}
