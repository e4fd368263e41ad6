/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv — the hypervisor through libvirt: which VMs this PM knows, their
 * firmware (BIOS or UEFI) and their volumes.  A volume's name is the disk's
 * <serial> when it has one (the lab and production set it), else its target
 * device; the boot volume is the disk with <boot order='1'/>, or the first
 * disk when no disk has a boot order.
 */
#ifndef TS_HV_H
#define TS_HV_H

#include <stdbool.h>
#include <stddef.h>

#define TS_VM_NAME_MAX 256
#define TS_VM_MAX_VOLUMES 16

struct ts_vm_volume {
	char name[64];
	char target[32];
	char path[1024];
	bool boot;
};

struct ts_vm {
	char name[TS_VM_NAME_MAX];
	bool uefi;
	char state[16];         /* running, paused, shut off, ... */
	size_t n_volumes;
	struct ts_vm_volume volumes[TS_VM_MAX_VOLUMES];
};

/**
 * List the VMs at @uri (all of them, running or defined).  *vms is a
 * malloc'd array of *n entries.  On failure returns -EIO and sets *errmsg.
 */
int ts_hv_list(const char *uri, struct ts_vm **vms, size_t *n, char **errmsg);

/**
 * One VM by name: its facts and (when @xml is not NULL) its domain XML,
 * malloc'd.  -ENOENT when there is no such VM, -EIO with *errmsg otherwise.
 */
int ts_hv_get(const char *uri, const char *name, struct ts_vm *vm, char **xml, char **errmsg);

/**
 * Freeze (@freeze) or thaw the guest's filesystems through the QEMU guest
 * agent (virDomainFSFreeze/FSThaw), waiting at most @agent_timeout_s
 * seconds for the agent's answer (virDomainAgentSetResponseTimeout; a
 * driver without it keeps its own).  -EIO with *errmsg when it cannot.
 */
int ts_hv_fsfreeze(const char *uri, const char *name, bool freeze, int agent_timeout_s,
		   char **errmsg);

/** Parse a libvirt domain XML document into @vm (state left empty). */
/**
 * Close the read-only connection that ts_hv_list and ts_hv_get keep open
 * between calls (they reopen it when libvirt reports it dead or a call
 * fails).  At exit, for a clean shutdown.
 */
void ts_hv_disconnect(void);

int ts_hv_parse_domain_xml(const char *xml, struct ts_vm *vm);

#endif
