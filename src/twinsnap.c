/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * twinsnap — the admin CLI.  Parses arguments, asks twinsnapd (client.c),
 * prints a short table or, with --json, one JSON document.  Exit codes are
 * the contract of CLI.md: 0 ok, 1 failed, 2 usage, 3 not found, 4 refused,
 * 5 agent not reachable, 6 permission denied.  This file holds the command
 * table, main() and the cluster/node/VM commands; the snapshot and event
 * commands are twinsnap_snap.c, the shared plumbing twinsnap_cli.c.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twinsnap_cli.h"
#include "twinsnap_text.h"

/* ---- rendering --------------------------------------------------------------------- */

static struct json_object *drbd_json(const Twinsnap__DrbdSummary *d)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "resource", json_object_new_string(d->resource));
	json_object_object_add(o, "role", json_object_new_string(d->role));
	json_object_object_add(o, "connection", json_object_new_string(d->connection));
	json_object_object_add(o, "disk", json_object_new_string(d->disk));
	json_object_object_add(o, "peer_disk", json_object_new_string(d->peer_disk));
	json_object_object_add(o, "replication", json_object_new_string(d->replication));
	json_object_object_add(o, "suspended", json_object_new_boolean(d->suspended));
	json_object_object_add(o, "done", d->has_done ? json_object_new_double(d->done) : NULL);
	return o;
}

static struct json_object *node_json(const Twinsnap__NodeView *v)
{
	struct json_object *o = json_object_new_object();
	struct json_object *drbd = json_object_new_array(), *prim = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string(v->name));
	json_object_object_add(o, "nodeid", json_object_new_int64(v->nodeid));
	json_object_object_add(o, "state", json_object_new_string(v->state));
	json_object_object_add(o, "member", json_object_new_boolean(v->member));
	json_object_object_add(o, "maintenance", json_object_new_boolean(v->maintenance));
	json_object_object_add(o, "sync_done",
			       v->has_sync_done ? json_object_new_double(v->sync_done) : NULL);
	for (size_t i = 0; i < v->n_drbd; i++) {
		json_object_array_add(drbd, drbd_json(v->drbd[i]));
		if (strcmp(v->drbd[i]->role, "Primary") == 0)
			json_object_array_add(prim, json_object_new_string(v->drbd[i]->resource));
	}
	json_object_object_add(o, "primary_of", prim);
	json_object_object_add(o, "drbd_ready", json_object_new_boolean(v->drbd_ready));
	json_object_object_add(o, "drbd", drbd);
	return o;
}

/* The resource most worth an admin's eye: resyncing, then unhealthy, then any. */
static const Twinsnap__DrbdSummary *drbd_headline(const Twinsnap__NodeView *v)
{
	for (size_t i = 0; i < v->n_drbd; i++)
		if (v->drbd[i]->resyncing)
			return v->drbd[i];
	for (size_t i = 0; i < v->n_drbd; i++)
		if (strcmp(v->drbd[i]->connection, "Connected") != 0 ||
		    strcmp(v->drbd[i]->disk, "UpToDate") != 0 ||
		    strcmp(v->drbd[i]->peer_disk, "UpToDate") != 0)
			return v->drbd[i];
	return v->n_drbd ? v->drbd[0] : NULL;
}

static void print_node_table(Twinsnap__NodeView **nodes, size_t n)
{
	printf(" %-10s %-8s %-18s %-7s %-30s %s\n", "Name", "Node ID", "State", "Member",
	       "Primary of", "DRBD");
	printf("------------------------------------------------------------------------"
	       "--------------------------\n");
	for (size_t i = 0; i < n; i++) {
		const Twinsnap__NodeView *v = nodes[i];
		const Twinsnap__DrbdSummary *h = drbd_headline(v);
		char prim[256] = "", state[32], drbd[160] = "-";
		size_t np = 0;

		for (size_t j = 0; j < v->n_drbd; j++) {
			if (strcmp(v->drbd[j]->role, "Primary") != 0)
				continue;
			if (np++ < 3)
				snprintf(prim + strlen(prim), sizeof(prim) - strlen(prim), "%s%s",
					 np > 1 ? "," : "", v->drbd[j]->resource);
		}
		if (np > 3)
			snprintf(prim + strlen(prim), sizeof(prim) - strlen(prim), ",+%zu", np - 3);
		if (v->has_sync_done)
			snprintf(state, sizeof(state), "%s %.1f%%", v->state, v->sync_done);
		else
			snprintf(state, sizeof(state), "%s", v->state);
		if (!v->drbd_ready && strcmp(v->state, "down") != 0)
			snprintf(drbd, sizeof(drbd), "unknown (drbdsetup not answering)");
		else if (h)
			snprintf(drbd, sizeof(drbd), "%zu res; %s: %s %s/%s %s", v->n_drbd,
				 h->resource, h->connection, h->disk, h->peer_disk,
				 h->replication);
		if (h && h->has_done)
			snprintf(drbd + strlen(drbd), sizeof(drbd) - strlen(drbd), " %.1f%%",
				 h->done);
		printf(" %-10s %-8u %-18s %-7s %-30s %s\n", v->name, v->nodeid, state,
		       v->member ? "yes" : "no", np ? prim : "-", drbd);
	}
}

/* ---- commands ------------------------------------------------------------------------- */

static int cmd_status(const struct cli *cli, int argc, char **argv)
{
	Twinsnap__Request rq = TWINSNAP__REQUEST__INIT;
	Twinsnap__StatusRequest sr = TWINSNAP__STATUS_REQUEST__INIT;
	Twinsnap__Reply *r = NULL;
	const Twinsnap__StatusReply *s;
	int rc;

	if (argc != 0)
		return cli_usage(cli, "status takes no arguments");
	rq.body_case = TWINSNAP__REQUEST__BODY_STATUS;
	rq.status = &sr;
	rc = cli_call(cli, &rq, CLI_TIMEOUT_MS, NULL, &r);
	if (rc != EXIT_OK)
		return rc;
	if (cli_expect(cli, r, TWINSNAP__REPLY__BODY_STATUS) != EXIT_OK)
		return EXIT_FAILED;
	s = r->status;
	if (cli->json) {
		struct json_object *o = json_object_new_object();
		struct json_object *members = json_object_new_array();
		struct json_object *nodes = json_object_new_array();

		json_object_object_add(o, "cluster", json_object_new_string(s->cluster));
		json_object_object_add(o, "cluster_connected",
				       json_object_new_boolean(s->cluster_connected));
		json_object_object_add(o, "quorate", json_object_new_boolean(s->quorate));
		json_object_object_add(o, "local_node", json_object_new_string(s->local_node));
		for (size_t i = 0; i < s->n_members; i++) {
			struct json_object *m = json_object_new_object();

			json_object_object_add(m, "name", json_object_new_string(s->members[i]->name));
			json_object_object_add(m, "nodeid",
					       json_object_new_int64(s->members[i]->nodeid));
			json_object_array_add(members, m);
		}
		json_object_object_add(o, "members", members);
		for (size_t i = 0; i < s->n_nodes; i++)
			json_object_array_add(nodes, node_json(s->nodes[i]));
		json_object_object_add(o, "nodes", nodes);
		json_object_object_add(o, "snapshots_enabled",
				       json_object_new_boolean(s->snapshots_enabled));
		json_object_object_add(o, "snapshots_in_flight",
				       json_object_new_int64(s->snapshots_in_flight));
		cli_print_json(cli, o);
	} else {
		printf("Cluster:    %s\n", s->cluster_connected ? s->cluster
				: "(corosync not reachable)");
		printf("Quorum:     %s\n", s->quorate ? "quorate" : "NOT quorate");
		printf("Local node: %s\n", s->local_node);
		printf("Members:   ");
		for (size_t i = 0; i < s->n_members; i++)
			printf(" %s (%u)", s->members[i]->name, s->members[i]->nodeid);
		printf("%s\n", s->n_members ? "" : " none");
		printf("Snapshots:  %s, %u in flight\n\n",
		       s->snapshots_enabled ? "enabled" : "disabled", s->snapshots_in_flight);
		print_node_table(s->nodes, s->n_nodes);
	}
	twinsnap__reply__free_unpacked(r, NULL);
	return EXIT_OK;
}

static int cmd_node_list(const struct cli *cli, int argc, char **argv)
{
	Twinsnap__Request rq = TWINSNAP__REQUEST__INIT;
	Twinsnap__NodeListRequest nr = TWINSNAP__NODE_LIST_REQUEST__INIT;
	Twinsnap__Reply *r = NULL;
	int rc;

	if (argc != 0)
		return cli_usage(cli, "node list takes no arguments");
	rq.body_case = TWINSNAP__REQUEST__BODY_NODE_LIST;
	rq.node_list = &nr;
	rc = cli_call(cli, &rq, CLI_TIMEOUT_MS, NULL, &r);
	if (rc != EXIT_OK)
		return rc;
	if (cli_expect(cli, r, TWINSNAP__REPLY__BODY_NODE_LIST) != EXIT_OK)
		return EXIT_FAILED;
	if (cli->json) {
		struct json_object *o = json_object_new_object(), *nodes = json_object_new_array();

		for (size_t i = 0; i < r->node_list->n_nodes; i++)
			json_object_array_add(nodes, node_json(r->node_list->nodes[i]));
		json_object_object_add(o, "nodes", nodes);
		cli_print_json(cli, o);
	} else {
		print_node_table(r->node_list->nodes, r->node_list->n_nodes);
	}
	twinsnap__reply__free_unpacked(r, NULL);
	return EXIT_OK;
}

static int cmd_node_maintenance(const struct cli *cli, int argc, char **argv)
{
	Twinsnap__Request rq = TWINSNAP__REQUEST__INIT;
	Twinsnap__MaintenanceRequest mr = TWINSNAP__MAINTENANCE_REQUEST__INIT;
	Twinsnap__Reply *r = NULL;
	int rc;

	if (argc != 2)
		return cli_usage(cli, "usage: twinsnap node maintenance NODE on|off");
	if (strcmp(argv[1], "on") != 0 && strcmp(argv[1], "off") != 0)
		return cli_usage(cli, "maintenance takes 'on' or 'off'");
	mr.node = argv[0];
	mr.on = strcmp(argv[1], "on") == 0;
	rq.body_case = TWINSNAP__REQUEST__BODY_MAINTENANCE;
	rq.maintenance = &mr;
	rc = cli_call(cli, &rq, CLI_TIMEOUT_MS, NULL, &r);
	if (rc != EXIT_OK)
		return rc;
	if (cli->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "node", json_object_new_string(argv[0]));
		json_object_object_add(o, "maintenance", json_object_new_boolean(mr.on));
		cli_print_json(cli, o);
	} else {
		printf("%s: maintenance mode %s\n", argv[0], mr.on ? "on" : "off");
	}
	twinsnap__reply__free_unpacked(r, NULL);
	return EXIT_OK;
}

static int cmd_vm_list(const struct cli *cli, int argc, char **argv)
{
	Twinsnap__Request rq = TWINSNAP__REQUEST__INIT;
	Twinsnap__VmListRequest vr = TWINSNAP__VM_LIST_REQUEST__INIT;
	Twinsnap__Reply *r = NULL;
	const Twinsnap__VmListReply *vl;
	int rc;

	if (argc != 0)
		return cli_usage(cli, "vm list takes no arguments");
	rq.body_case = TWINSNAP__REQUEST__BODY_VM_LIST;
	rq.vm_list = &vr;
	rc = cli_call(cli, &rq, CLI_TIMEOUT_MS, NULL, &r);
	if (rc != EXIT_OK)
		return rc;
	if (cli_expect(cli, r, TWINSNAP__REPLY__BODY_VM_LIST) != EXIT_OK)
		return EXIT_FAILED;
	vl = r->vm_list;
	if (cli->json) {
		struct json_object *o = json_object_new_object(), *vms = json_object_new_array();

		for (size_t i = 0; i < vl->n_vms; i++) {
			struct json_object *vm = json_object_new_object();
			struct json_object *vols = json_object_new_array();

			json_object_object_add(vm, "name", json_object_new_string(vl->vms[i]->name));
			json_object_object_add(vm, "firmware",
					       json_object_new_string(vl->vms[i]->firmware));
			json_object_object_add(vm, "state", json_object_new_string(vl->vms[i]->state));
			for (size_t j = 0; j < vl->vms[i]->n_volumes; j++) {
				const Twinsnap__Volume *v = vl->vms[i]->volumes[j];
				struct json_object *vo = json_object_new_object();

				json_object_object_add(vo, "name", json_object_new_string(v->name));
				json_object_object_add(vo, "boot", json_object_new_boolean(v->boot));
				json_object_object_add(vo, "target", json_object_new_string(v->target));
				json_object_object_add(vo, "path", json_object_new_string(v->path));
				json_object_array_add(vols, vo);
			}
			json_object_object_add(vm, "volumes", vols);
			json_object_array_add(vms, vm);
		}
		json_object_object_add(o, "vms", vms);
		cli_print_json(cli, o);
	} else {
		printf(" %-20s %-9s %-10s %s\n", "Name", "Firmware", "State", "Volumes (* = boot)");
		printf("----------------------------------------------------------------\n");
		for (size_t i = 0; i < vl->n_vms; i++) {
			printf(" %-20s %-9s %-10s", vl->vms[i]->name, vl->vms[i]->firmware,
			       vl->vms[i]->state);
			for (size_t j = 0; j < vl->vms[i]->n_volumes; j++)
				printf("%s%s%s", j ? ", " : " ", vl->vms[i]->volumes[j]->name,
				       vl->vms[i]->volumes[j]->boot ? "*" : "");
			printf("\n");
		}
	}
	twinsnap__reply__free_unpacked(r, NULL);
	return EXIT_OK;
}

enum command_id {
	CMD_STATUS, CMD_NODE_LIST, CMD_NODE_MAINTENANCE, CMD_VM_LIST,
	CMD_SNAP_CREATE, CMD_SNAP_LIST, CMD_SNAP_SHOW, CMD_SNAP_DELETE,
	CMD_SNAPS_ENABLE, CMD_SNAPS_DISABLE, CMD_EVENTS, CMD_COUNT,
};

static const struct command {
	const char *word1, *word2;
	cli_command_fn fn;
	const char *synopsis;   /* continuation lines start with "\n      " */
	const char *help;
} commands[CMD_COUNT] = {
	[CMD_STATUS] = { "status", NULL, cmd_status, "status",
			 "cluster, quorum, both PMs, snapshots on/off" },
	[CMD_NODE_LIST] = { "node", "list", cmd_node_list, "node list",
			    "one row per PM with its DRBD summary" },
	[CMD_NODE_MAINTENANCE] = { "node", "maintenance", cmd_node_maintenance,
				   "node maintenance NODE on|off",
				   "put a PM into / out of maintenance mode" },
	[CMD_VM_LIST] = { "vm", "list", cmd_vm_list, "vm list",
			  "VMs on this PM: firmware, volumes" },
	[CMD_SNAP_CREATE] = { "snapshot", "create", snap_cmd_create,
			      "snapshot create VM [--volume NAME]... [--name TEXT]\n"
			      "      [--description TEXT] [--consistency crash|application|auto]\n"
			      "      [--no-wait]",
			      "snapshot a VM on both PMs, wait till normal" },
	[CMD_SNAP_LIST] = { "snapshot", "list", snap_cmd_list,
			    "snapshot list [--vm VM] [--state broken|normal]",
			    "the snapshots, one row each" },
	[CMD_SNAP_SHOW] = { "snapshot", "show", snap_cmd_show, "snapshot show ID",
			    "one snapshot in detail" },
	[CMD_SNAP_DELETE] = { "snapshot", "delete", snap_cmd_delete, "snapshot delete ID [--yes]",
			      "delete on both PMs (asks unless --yes)" },
	[CMD_SNAPS_ENABLE] = { "snapshots", "enable", snap_cmd_enable, "snapshots enable",
			       "accept snapshot requests again" },
	[CMD_SNAPS_DISABLE] = { "snapshots", "disable", snap_cmd_disable, "snapshots disable",
				"refuse new snapshot requests" },
	[CMD_EVENTS] = { "events", NULL, snap_cmd_events, "events [--follow]",
			 "the event log; --follow: wait for more" },
};

#define HELP_COLUMN 34

static void usage(FILE *f)
{
	fprintf(f, "Usage: twinsnap [--json] [--socket NAME] COMMAND ...\n\nCommands:\n");
	for (size_t i = 0; i < CMD_COUNT; i++) {
		const char *last = strrchr(commands[i].synopsis, '\n');
		int col = last ? (int)strlen(last + 1) : 2 + (int)strlen(commands[i].synopsis);

		fprintf(f, "  %s", commands[i].synopsis);
		if (col + 2 > HELP_COLUMN) {
			fputc('\n', f);
			col = 0;
		}
		fprintf(f, "%*s%s\n", HELP_COLUMN - col, "", commands[i].help);
	}
	fprintf(f, "\nExit codes: 0 ok, 1 failed, 2 usage, 3 not found, 4 refused,\n"
		   "            5 agent not reachable, 6 permission denied.\n");
}

/* Run the command @argv names; EXIT_USAGE when it names none. */
static int dispatch(const struct cli *cli, int argc, char **argv)
{
	bool word1_known = false;

	for (size_t i = 0; i < CMD_COUNT; i++) {
		const struct command *cmd = &commands[i];

		if (strcmp(argv[0], cmd->word1) != 0)
			continue;
		if (!cmd->word2)
			return cmd->fn(cli, argc - 1, argv + 1);
		word1_known = true;
		if (argc >= 2 && strcmp(argv[1], cmd->word2) == 0)
			return cmd->fn(cli, argc - 2, argv + 2);
	}
	if (!word1_known)
		return cli_usage(cli, "unknown command '%s'", argv[0]);
	if (argc < 2)
		return cli_usage(cli, "'%s' needs a subcommand", argv[0]);
	return cli_usage(cli, "unknown command '%s %s'", argv[0], argv[1]);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { .json = false, .ndjson = false, .service = "twinsnap" };
	int c;

	text_init();
	/* '+': stop at the first command word, so its own options stay its own. */
	while ((c = getopt_long(argc, argv, "+js:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'j': cli.json = true; break;
		case 's': cli.service = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': printf("twinsnap %s\n", PACKAGE_VERSION); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return dispatch(&cli, argc, argv);
}
