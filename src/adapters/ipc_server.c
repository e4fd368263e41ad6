/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ipc_server — libqb IPC server with uid/gid admission (see ipc_server.h). */
#include "config.h"
#include "adapters/ipc_server.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <qb/qbipcs.h>
#include <qb/qblog.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct ts_ipc_server {
	qb_ipcs_service_t *service;
	char *admin_group;
	ts_ipc_request_fn handler;
	void *ctx;
};

struct ts_ipc_req {
	qb_ipcs_connection_t *conn;
	int32_t id;
};

/*
 * libqb's poll-handler hooks take no context pointer, so the loop they
 * register into has to be reachable from file scope.  One IPC server per
 * process is all the agent ever has.
 */
static qb_loop_t *ipc_loop;

static int32_t job_add(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn)
{
	return qb_loop_job_add(ipc_loop, p, data, fn);
}

static int32_t dispatch_add(enum qb_loop_priority p, int32_t fd, int32_t events,
			    void *data, qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_add(ipc_loop, p, fd, events, data, fn);
}

static int32_t dispatch_mod(enum qb_loop_priority p, int32_t fd, int32_t events,
			    void *data, qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_mod(ipc_loop, p, fd, events, data, fn);
}

static int32_t dispatch_del(int32_t fd)
{
	return qb_loop_poll_del(ipc_loop, fd);
}

static bool uid_in_group(uid_t uid, gid_t primary, const char *group)
{
	struct group *gr;
	struct passwd *pw;
	gid_t groups[256];
	int n = 256;

	if (!group || !group[0])
		return false;
	gr = getgrnam(group);
	if (!gr)
		return false;
	if (primary == gr->gr_gid)
		return true;
	pw = getpwuid(uid);
	if (!pw || getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == gr->gr_gid)
			return true;
	return false;
}

static int32_t on_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
	struct ts_ipc_server *s = qb_ipcs_connection_service_context_get(c);

	if (uid == 0 || uid_in_group(uid, gid, s->admin_group)) {
		/* Let the admitted client map the shared-memory rings. */
		qb_ipcs_connection_auth_set(c, uid, gid, 0600);
		return 0;
	}
	qb_log(LOG_WARNING, "ipc: refused connection from uid %u gid %u "
	       "(only root and group '%s' may use twinsnap)", (unsigned)uid, (unsigned)gid,
	       s->admin_group && s->admin_group[0] ? s->admin_group : "(none)");
	return -EACCES;
}

static int32_t on_msg(qb_ipcs_connection_t *c, void *data, size_t size)
{
	struct ts_ipc_server *s = qb_ipcs_connection_service_context_get(c);
	struct qb_ipc_request_header *hdr = data;
	struct ts_ipc_req *req;

	if (size < sizeof(*hdr) || hdr->size < (int32_t)sizeof(*hdr) || (size_t)hdr->size > size) {
		qb_log(LOG_WARNING, "ipc: dropping malformed request (%zu bytes)", size);
		return 0;
	}
	req = ts_xcalloc(1, sizeof(*req));
	req->conn = c;
	req->id = hdr->id;
	qb_ipcs_connection_ref(c);
	s->handler(s->ctx, req, (const uint8_t *)data + sizeof(*hdr),
		   (size_t)hdr->size - sizeof(*hdr));
	return 0;
}

int ts_ipc_reply(struct ts_ipc_req *req, const uint8_t *payload, size_t len)
{
	struct qb_ipc_response_header hdr = { 0 };
	struct iovec iov[2];
	ssize_t r;

	hdr.id = req->id;
	hdr.size = (int32_t)(sizeof(hdr) + len);
	hdr.error = 0;
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = len;
	r = qb_ipcs_response_sendv(req->conn, iov, 2);
	qb_ipcs_connection_unref(req->conn);
	free(req);
	return r < 0 ? (int)r : 0;
}

int ts_ipc_server_create(qb_loop_t *loop, const char *name, const char *admin_group,
			 ts_ipc_request_fn handler, void *ctx, struct ts_ipc_server **out)
{
	static struct qb_ipcs_service_handlers handlers = {
		.connection_accept = on_accept,
		.msg_process = on_msg,
	};
	static struct qb_ipcs_poll_handlers poll_handlers = {
		.job_add = job_add,
		.dispatch_add = dispatch_add,
		.dispatch_mod = dispatch_mod,
		.dispatch_del = dispatch_del,
	};
	struct ts_ipc_server *s;
	int rc;

	ipc_loop = loop;
	s = ts_xcalloc(1, sizeof(*s));
	s->admin_group = ts_xstrdup(admin_group ? admin_group : "");
	s->handler = handler;
	s->ctx = ctx;
	s->service = qb_ipcs_create(name, 0, QB_IPC_NATIVE, &handlers);
	if (!s->service) {
		rc = -errno;
		goto fail;
	}
	qb_ipcs_service_context_set(s->service, s);
	qb_ipcs_poll_handlers_set(s->service, &poll_handlers);
	qb_ipcs_enforce_buffer_size(s->service, TS_IPC_MAX_MSG);
	/* On failure qb_ipcs_run() has already released the service (a
	 * qb_ipcs_destroy() here would unref it twice), as Pacemaker relies on. */
	rc = qb_ipcs_run(s->service);
	if (rc < 0)
		goto fail;
	*out = s;
	return 0;

fail:
	free(s->admin_group);
	free(s);
	return rc ? rc : -EIO;
}

void ts_ipc_server_destroy(struct ts_ipc_server *s)
{
	if (!s)
		return;
	qb_ipcs_destroy(s->service);
	free(s->admin_group);
	free(s);
}
