/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * twinsnap_cli — what the CLI's command modules share: the invocation
 * context, the exit codes of CLI.md, error reporting (stderr, plus the JSON
 * error document with --json), argument parsing for "COMMAND POSITIONAL...
 * [--option [VALUE]]..." and the request/reply round trip with twinsnapd.
 * Command modules (twinsnap.c, twinsnap_snap.c) only parse, ask and print.
 */
#ifndef TS_TWINSNAP_CLI_H
#define TS_TWINSNAP_CLI_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "client.h"
#include "twinsnap_jstream.h"

enum {
	EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_NOT_FOUND = 3,
	EXIT_REFUSED = 4, EXIT_UNREACHABLE = 5, EXIT_DENIED = 6,
};

/** Reply timeout of ordinary requests. */
#define CLI_TIMEOUT_MS 15000
/* the agent takes a connection between two events of its loop: ms, or it is stuck */
#define CLI_CONNECT_TIMEOUT_MS 10000

struct cli {
	bool json;
	bool ndjson;            /* with json: one document per line (events --follow) */
	const char *service;
	/* with json: a document being streamed (snapshot list); once it is
	 * open, a failure ends it with an "error" member instead of printing
	 * a document of its own */
	struct jstream *stream;
};

/** Print @o on stdout (pretty, or on one line for ndjson) and drop the reference. */
void cli_print_json(const struct cli *cli, struct json_object *o);

/**
 * Report a failure: "twinsnap: MESSAGE" on stderr and, with --json,
 * {"error":{"code":@err_code,"message":…}} on stdout (or, into an open
 * cli->stream, its "error" member, which ends that document).  Returns @code.
 */
int cli_fail(const struct cli *cli, int code, const char *err_code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/** A usage error (exit 2), reported like cli_fail(); nothing was sent. */
int cli_usage(const struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- arguments ------------------------------------------------------------- */

enum cli_opt_kind {
	CLI_OPT_FLAG,           /* --yes */
	CLI_OPT_VALUE,          /* --name TEXT or --name=TEXT, at most once */
	CLI_OPT_LIST,           /* --volume NAME, repeatable */
};

struct cli_opt {
	const char *name;       /* with the dashes: "--volume" */
	enum cli_opt_kind kind;
};

#define CLI_MAX_POS 2
#define CLI_MAX_OPTS 8

/** What a command accepts: exactly the named positionals, and the options. */
struct cli_spec {
	const char *cmd;                        /* "snapshot create", for messages */
	const char *pos[CLI_MAX_POS + 1];       /* "VM", NULL-terminated */
	const struct cli_opt *opts;             /* indexed by the command's enum */
	size_t n_opts;                          /* <= CLI_MAX_OPTS */
};

struct cli_optval {
	bool set;
	const char *value;      /* CLI_OPT_VALUE: points into argv */
	char **list;            /* CLI_OPT_LIST: n entries into argv (array owned) */
	size_t n;
};

struct cli_args {
	char *pos[CLI_MAX_POS];
	struct cli_optval opt[CLI_MAX_OPTS];
};

/**
 * Parse @argc/@argv (what follows the command words) against @spec into
 * @out.  Options and positionals may come in any order; "--" ends the
 * options.  EXIT_OK, or EXIT_USAGE after reporting the error.  Release
 * @out with cli_args_free() in both cases.
 */
int cli_parse(const struct cli *cli, const struct cli_spec *spec, int argc, char **argv,
	      struct cli_args *out);
void cli_args_free(struct cli_args *a);

/* ---- talking to twinsnapd ----------------------------------------------------- */

/** Connect; EXIT_OK or the reported EXIT_DENIED / EXIT_UNREACHABLE. */
int cli_connect(const struct cli *cli, struct ts_client **out);

/**
 * Send @rq on @c and wait up to @timeout_ms.  When @progress is not NULL
 * and stderr is a terminal, "@progress Ns" is shown there (and erased)
 * while the answer takes longer than a second.  EXIT_OK with *reply set
 * (free with twinsnap__reply__free_unpacked), or the exit code after
 * reporting: the agent's own exit_code/error_code/message on failure,
 * EXIT_UNREACHABLE when it did not answer.
 */
int cli_request(const struct cli *cli, struct ts_client *c, const Twinsnap__Request *rq,
		int timeout_ms, const char *progress, Twinsnap__Reply **reply);

/*
 * cli_request() in two halves (ts_client_send/ts_client_recv): one request
 * out at a time, each cli_send() followed by one cli_recv().  Failures are
 * reported as cli_request() reports them.
 */
int cli_send(const struct cli *cli, struct ts_client *c, const Twinsnap__Request *rq);
int cli_recv(const struct cli *cli, struct ts_client *c, int timeout_ms, const char *progress,
	     Twinsnap__Reply **reply);

/** cli_recv() into @arena (ts_client_recv_arena()): nothing of *@reply is freed, ever. */
int cli_recv_arena(const struct cli *cli, struct ts_client *c, int timeout_ms,
		   struct ts_arena *arena, Twinsnap__Reply **reply);

/** cli_connect() + cli_request() + close. */
int cli_call(const struct cli *cli, const Twinsnap__Request *rq, int timeout_ms,
	     const char *progress, Twinsnap__Reply **reply);

/**
 * Check that @r carries @body; otherwise free it and report "unexpected
 * reply" (EXIT_FAILED).
 */
int cli_expect(const struct cli *cli, Twinsnap__Reply *r, Twinsnap__Reply__BodyCase body);

/** cli_expect() that never frees @r (a reply in an arena). */
int cli_expect_kept(const struct cli *cli, const Twinsnap__Reply *r,
		    Twinsnap__Reply__BodyCase body);

/* ---- command modules ------------------------------------------------------------ */

/** A command: @argc/@argv are what follows its words; returns the exit code. */
typedef int (*cli_command_fn)(const struct cli *cli, int argc, char **argv);

/* twinsnap_snap.c */
int snap_cmd_create(const struct cli *cli, int argc, char **argv);
int snap_cmd_list(const struct cli *cli, int argc, char **argv);
int snap_cmd_show(const struct cli *cli, int argc, char **argv);
int snap_cmd_delete(const struct cli *cli, int argc, char **argv);
int snap_cmd_enable(const struct cli *cli, int argc, char **argv);
int snap_cmd_disable(const struct cli *cli, int argc, char **argv);
int snap_cmd_events(const struct cli *cli, int argc, char **argv);

#endif
