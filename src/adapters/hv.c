/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hv — libvirt adapter: VMs, firmware and volumes (see hv.h). */
#include "config.h"
#include "adapters/hv.h"

#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "util.h"

/* libvirt prints every error to stderr by default; we report them ourselves. */
static void quiet_errors(void *data, virErrorPtr err)
{
}

static char *xpath_string(xmlXPathContextPtr ctx, const char *expr)
{
	xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	char *s = NULL;

	if (o && o->type == XPATH_STRING && o->stringval && o->stringval[0])
		s = ts_xstrdup((const char *)o->stringval);
	xmlXPathFreeObject(o);
	return s;
}

static void copy_attr(xmlXPathContextPtr ctx, const char *expr, char *dst, size_t len)
{
	char *v = xpath_string(ctx, expr);

	snprintf(dst, len, "%s", v ? v : "");
	free(v);
}

static int parse_disks(xmlXPathContextPtr ctx, struct ts_vm *vm)
{
	xmlXPathObjectPtr disks = xmlXPathEvalExpression(
		(const xmlChar *)"/domain/devices/disk[@device='disk' or not(@device)]", ctx);
	bool any_boot_order = false;
	int n;

	if (!disks || !disks->nodesetval) {
		xmlXPathFreeObject(disks);
		return 0;
	}
	n = disks->nodesetval->nodeNr;
	for (int i = 0; i < n && vm->n_volumes < TS_VM_MAX_VOLUMES; i++) {
		struct ts_vm_volume *v = &vm->volumes[vm->n_volumes];
		char *order;

		ctx->node = disks->nodesetval->nodeTab[i];
		copy_attr(ctx, "string(target/@dev)", v->target, sizeof(v->target));
		copy_attr(ctx, "string(serial)", v->name, sizeof(v->name));
		if (!v->name[0])
			memcpy(v->name, v->target, sizeof(v->target));
		copy_attr(ctx, "string(source/@file | source/@dev | source/@name)",
			  v->path, sizeof(v->path));
		order = xpath_string(ctx, "string(boot/@order)");
		if (order) {
			any_boot_order = true;
			v->boot = strcmp(order, "1") == 0;
			free(order);
		}
		vm->n_volumes++;
	}
	if (!any_boot_order && vm->n_volumes > 0)
		vm->volumes[0].boot = true;
	xmlXPathFreeObject(disks);
	return 0;
}

int ts_hv_parse_domain_xml(const char *xml, struct ts_vm *vm)
{
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
	char *fw, *loader;

	memset(vm, 0, sizeof(*vm));
	doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return -EINVAL;
	ctx = xmlXPathNewContext(doc);
	copy_attr(ctx, "string(/domain/name)", vm->name, sizeof(vm->name));
	fw = xpath_string(ctx, "string(/domain/os/@firmware)");
	loader = xpath_string(ctx, "string(/domain/os/loader/@type)");
	/* UEFI is either firmware autoselection or an explicit pflash loader. */
	vm->uefi = (fw && strcmp(fw, "efi") == 0) || (loader && strcmp(loader, "pflash") == 0);
	free(fw);
	free(loader);
	parse_disks(ctx, vm);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return vm->name[0] ? 0 : -EINVAL;
}

static const char *state_str(int state)
{
	switch (state) {
	case VIR_DOMAIN_RUNNING: return "running";
	case VIR_DOMAIN_BLOCKED: return "blocked";
	case VIR_DOMAIN_PAUSED: return "paused";
	case VIR_DOMAIN_SHUTDOWN: return "shutdown";
	case VIR_DOMAIN_SHUTOFF: return "shut off";
	case VIR_DOMAIN_CRASHED: return "crashed";
	case VIR_DOMAIN_PMSUSPENDED: return "pmsuspended";
	default: return "unknown";
	}
}

static char *last_error(const char *what)
{
	virErrorPtr e = virGetLastError();

	return ts_xasprintf("%s: %s", what, e && e->message ? e->message : "unknown error");
}

/*
 * The read-only connection of `vm list` and of every snapshot create, kept
 * open: opening one per call cost a create ~20 ms (the test driver parses
 * its whole node file on each open; libvirtd's is a socket handshake).
 * Dropped when libvirt says it is dead or a call fails for a reason other
 * than a missing domain, so a restarted libvirtd is reconnected to.
 */
static virConnectPtr ro_conn;
static char *ro_uri;

void ts_hv_disconnect(void)
{
	if (ro_conn)
		virConnectClose(ro_conn);
	ro_conn = NULL;
	free(ro_uri);
	ro_uri = NULL;
}

static virConnectPtr read_only_conn(const char *uri)
{
	if (ro_conn && (strcmp(ro_uri, uri) != 0 || virConnectIsAlive(ro_conn) != 1))
		ts_hv_disconnect();
	if (!ro_conn) {
		ro_conn = virConnectOpenReadOnly(uri);
		if (ro_conn)
			ro_uri = ts_xstrdup(uri);
	}
	return ro_conn;
}

int ts_hv_get(const char *uri, const char *name, struct ts_vm *vm, char **xml, char **errmsg)
{
	virConnectPtr conn;
	virDomainPtr dom;
	char *desc;
	int rc = 0;

	virSetErrorFunc(NULL, quiet_errors);
	conn = read_only_conn(uri);
	if (!conn) {
		*errmsg = last_error("cannot connect to libvirt");
		return -EIO;
	}
	dom = virDomainLookupByName(conn, name);
	if (!dom) {
		virErrorPtr e = virGetLastError();

		if (e && e->code == VIR_ERR_NO_DOMAIN) {
			rc = -ENOENT;
		} else {
			*errmsg = last_error("cannot look up the VM");
			rc = -EIO;
		}
		goto out;
	}
	desc = virDomainGetXMLDesc(dom, 0);
	if (!desc || ts_hv_parse_domain_xml(desc, vm) < 0) {
		*errmsg = last_error("cannot read the VM's domain XML");
		free(desc);
		rc = -EIO;
	} else if (xml) {
		*xml = desc;
	} else {
		free(desc);
	}
	virDomainFree(dom);
out:
	if (rc == -EIO)
		ts_hv_disconnect();
	return rc;
}

int ts_hv_fsfreeze(const char *uri, const char *name, bool freeze, int agent_timeout_s,
		   char **errmsg)
{
	virConnectPtr conn;
	virDomainPtr dom;
	int rc = -EIO;

	if (ts_fault(freeze ? "hv/fsfreeze" : "hv/fsthaw")) {
		*errmsg = ts_xasprintf("guest agent of %s did not answer in time (fault injected)",
				       name);
		return -ETIMEDOUT;
	}
	virSetErrorFunc(NULL, quiet_errors);
	conn = virConnectOpen(uri);
	if (!conn) {
		*errmsg = last_error("cannot connect to libvirt");
		return -EIO;
	}
	dom = virDomainLookupByName(conn, name);
	if (!dom) {
		*errmsg = last_error("cannot look up the VM");
		goto out;
	}
	/* A hung guest agent must not hold the agent past the freeze timeout. */
	(void)virDomainAgentSetResponseTimeout(dom, agent_timeout_s, 0);
	if ((freeze ? virDomainFSFreeze(dom, NULL, 0, 0) : virDomainFSThaw(dom, NULL, 0, 0)) >= 0)
		rc = 0;
	else
		*errmsg = last_error(freeze ? "guest filesystem freeze failed"
					    : "guest filesystem thaw failed");
	virDomainFree(dom);
out:
	virConnectClose(conn);
	return rc;
}

int ts_hv_list(const char *uri, struct ts_vm **vms, size_t *n, char **errmsg)
{
	virConnectPtr conn;
	virDomainPtr *doms = NULL;
	struct ts_vm *out;
	int count;

	*vms = NULL;
	*n = 0;
	virSetErrorFunc(NULL, quiet_errors);
	conn = read_only_conn(uri);
	if (!conn) {
		virErrorPtr e = virGetLastError();

		*errmsg = ts_xasprintf("cannot connect to libvirt at %s: %s", uri,
				       e && e->message ? e->message : "unknown error");
		return -EIO;
	}
	count = virConnectListAllDomains(conn, &doms, 0);
	if (count < 0) {
		virErrorPtr e = virGetLastError();

		*errmsg = ts_xasprintf("cannot list domains: %s",
				       e && e->message ? e->message : "unknown error");
		ts_hv_disconnect();
		return -EIO;
	}
	out = ts_xcalloc((size_t)count + 1, sizeof(*out));
	for (int i = 0; i < count; i++) {
		char *xml = virDomainGetXMLDesc(doms[i], 0);
		int state = 0, reason = 0;

		if (xml && ts_hv_parse_domain_xml(xml, &out[*n]) == 0) {
			if (virDomainGetState(doms[i], &state, &reason, 0) == 0)
				snprintf(out[*n].state, sizeof(out[*n].state), "%s",
					 state_str(state));
			(*n)++;
		}
		free(xml);
		virDomainFree(doms[i]);
	}
	free(doms);
	*vms = out;
	return 0;
}
