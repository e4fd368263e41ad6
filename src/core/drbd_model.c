/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * drbd_model — turns `drbdsetup events2` lines (DRBD 9 utils and the 8.4 form
 * printed by drbdsetup-84) into per-resource state for the node-state rules.
 *
 * Every line is first parsed completely into a struct e2_line, which only
 * points into the caller's text.  The model is touched only after the whole
 * line proved valid and the objects it names exist (or fit within the
 * TS_DRBD_MAX_* limits), so a rejected line never leaves half an update.
 * Grammar: shared/drbd/GRAMMAR.md.
 */
#include "config.h"
#include "core/drbd_model.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_PEER_DEVICES (TS_DRBD_MAX_VOLUMES * TS_DRBD_MAX_PEERS)

struct ts_drbd_model {
	struct ts_drbd_resource *res[TS_DRBD_MAX_RESOURCES]; /* order of first appearance */
	size_t n_res;
	bool dump_complete;
};

/* A piece of the caller's line; not NUL-terminated. */
struct span {
	const char *p;
	size_t len;
};

enum e2_verb {
	VERB_EXISTS, VERB_CREATE, VERB_CHANGE, VERB_DESTROY,
	VERB_CALL, VERB_RESPONSE, VERB_RENAME,
};

enum e2_object {
	OBJ_RESOURCE, OBJ_DEVICE, OBJ_CONNECTION, OBJ_PEER_DEVICE,
	OBJ_DUMP_END,   /* the "-" of "exists -" */
	OBJ_IGNORED,    /* path, helper and objects newer utils may add */
};

#define ON_RES (1u << OBJ_RESOURCE)
#define ON_DEV (1u << OBJ_DEVICE)
#define ON_CONN (1u << OBJ_CONNECTION)
#define ON_PD (1u << OBJ_PEER_DEVICE)
#define ON_ALL (ON_RES | ON_DEV | ON_CONN | ON_PD)

/* The keys the model keeps; everything else on a line is skipped. */
enum e2_field {
	F_NAME, F_VOLUME, F_MINOR, F_PEER_NODE_ID, F_CONN_NAME,
	F_ROLE, F_SUSPENDED,
	F_DISK, F_UPPER_PENDING, F_LOWER_PENDING,
	F_CONNECTION, F_AP_IN_FLIGHT, F_RS_IN_FLIGHT,
	F_REPLICATION, F_PEER_DISK, F_RESYNC_SUSPENDED, F_DONE,
	F_OUT_OF_SYNC, F_PENDING, F_UNACKED,
	F_COUNT
};

enum e2_type {
	T_NAME,    /* identity: resource or connection name */
	T_ID,      /* identity: non-negative int (volume, minor, peer-node-id) */
	T_U64,
	T_PERCENT, /* %.2f */
	T_ROLE, T_CONN, T_DISK, T_REPL,
	T_TEXT,    /* kept raw, e.g. "user,quorum" */
};

struct e2_key {
	const char *key;
	enum e2_field field;
	enum e2_type type;
	unsigned objects; /* ON_* mask: where the key means something to us */
};

static const struct e2_key e2_keys[] = {
	{ "name", F_NAME, T_NAME, ON_ALL },
	{ "volume", F_VOLUME, T_ID, ON_DEV | ON_PD },
	{ "minor", F_MINOR, T_ID, ON_DEV | ON_PD }, /* on peer-device from 8.4 only */
	{ "peer-node-id", F_PEER_NODE_ID, T_ID, ON_CONN | ON_PD },
	{ "conn-name", F_CONN_NAME, T_NAME, ON_CONN | ON_PD },
	{ "role", F_ROLE, T_ROLE, ON_RES | ON_CONN },
	{ "suspended", F_SUSPENDED, T_TEXT, ON_RES },
	{ "disk", F_DISK, T_DISK, ON_DEV },
	{ "upper-pending", F_UPPER_PENDING, T_U64, ON_DEV },
	{ "lower-pending", F_LOWER_PENDING, T_U64, ON_DEV },
	{ "connection", F_CONNECTION, T_CONN, ON_CONN },
	{ "ap-in-flight", F_AP_IN_FLIGHT, T_U64, ON_CONN },
	{ "rs-in-flight", F_RS_IN_FLIGHT, T_U64, ON_CONN },
	{ "replication", F_REPLICATION, T_REPL, ON_PD },
	{ "peer-disk", F_PEER_DISK, T_DISK, ON_PD },
	{ "resync-suspended", F_RESYNC_SUSPENDED, T_TEXT, ON_PD },
	{ "done", F_DONE, T_PERCENT, ON_PD },
	{ "out-of-sync", F_OUT_OF_SYNC, T_U64, ON_PD },
	{ "pending", F_PENDING, T_U64, ON_PD },
	{ "unacked", F_UNACKED, T_U64, ON_PD },
};

/* Identity keys each object must carry (GRAMMAR.md §2); minor is optional. */
static const unsigned long required_fields[] = {
	[OBJ_RESOURCE] = 1ul << F_NAME,
	[OBJ_DEVICE] = 1ul << F_NAME | 1ul << F_VOLUME,
	[OBJ_CONNECTION] = 1ul << F_NAME | 1ul << F_PEER_NODE_ID | 1ul << F_CONN_NAME,
	[OBJ_PEER_DEVICE] = 1ul << F_NAME | 1ul << F_PEER_NODE_ID | 1ul << F_CONN_NAME |
			    1ul << F_VOLUME,
};

struct e2_value {
	bool set;
	union {
		uint64_t u64;
		int id;
		double pct;
		int enumval;
		struct span text;
	};
};

struct e2_line {
	enum e2_verb verb;
	enum e2_object object;
	struct e2_value v[F_COUNT];
};

static const char *const role_names[] = {
	[TS_ROLE_UNKNOWN] = "Unknown", [TS_ROLE_PRIMARY] = "Primary",
	[TS_ROLE_SECONDARY] = "Secondary",
};

static const char *const conn_names[] = {
	[TS_CONN_UNKNOWN] = "unknown", [TS_CONN_STANDALONE] = "StandAlone",
	[TS_CONN_DISCONNECTING] = "Disconnecting", [TS_CONN_UNCONNECTED] = "Unconnected",
	[TS_CONN_TIMEOUT] = "Timeout", [TS_CONN_BROKENPIPE] = "BrokenPipe",
	[TS_CONN_NETWORKFAILURE] = "NetworkFailure", [TS_CONN_PROTOCOLERROR] = "ProtocolError",
	[TS_CONN_TEARDOWN] = "TearDown", [TS_CONN_CONNECTING] = "Connecting",
	[TS_CONN_CONNECTED] = "Connected",
};

static const char *const disk_names[] = {
	[TS_DISK_UNKNOWN] = "unknown", [TS_DISK_DISKLESS] = "Diskless",
	[TS_DISK_ATTACHING] = "Attaching", [TS_DISK_DETACHING] = "Detaching",
	[TS_DISK_FAILED] = "Failed", [TS_DISK_NEGOTIATING] = "Negotiating",
	[TS_DISK_INCONSISTENT] = "Inconsistent", [TS_DISK_OUTDATED] = "Outdated",
	[TS_DISK_DUNKNOWN] = "DUnknown", [TS_DISK_CONSISTENT] = "Consistent",
	[TS_DISK_UPTODATE] = "UpToDate",
};

static const char *const repl_names[] = {
	[TS_REPL_UNKNOWN] = "unknown", [TS_REPL_OFF] = "Off",
	[TS_REPL_ESTABLISHED] = "Established", [TS_REPL_STARTINGSYNCS] = "StartingSyncS",
	[TS_REPL_STARTINGSYNCT] = "StartingSyncT", [TS_REPL_WFBITMAPS] = "WFBitMapS",
	[TS_REPL_WFBITMAPT] = "WFBitMapT", [TS_REPL_WFSYNCUUID] = "WFSyncUUID",
	[TS_REPL_SYNCSOURCE] = "SyncSource", [TS_REPL_SYNCTARGET] = "SyncTarget",
	[TS_REPL_VERIFYS] = "VerifyS", [TS_REPL_VERIFYT] = "VerifyT",
	[TS_REPL_PAUSEDSYNCS] = "PausedSyncS", [TS_REPL_PAUSEDSYNCT] = "PausedSyncT",
	[TS_REPL_AHEAD] = "Ahead", [TS_REPL_BEHIND] = "Behind",
};

static const char *const verb_names[] = {
	[VERB_EXISTS] = "exists", [VERB_CREATE] = "create", [VERB_CHANGE] = "change",
	[VERB_DESTROY] = "destroy", [VERB_CALL] = "call", [VERB_RESPONSE] = "response",
	[VERB_RENAME] = "rename",
};

static const char *const object_names[] = {
	[OBJ_RESOURCE] = "resource", [OBJ_DEVICE] = "device",
	[OBJ_CONNECTION] = "connection", [OBJ_PEER_DEVICE] = "peer-device",
	[OBJ_DUMP_END] = "-",
};

static void *xzalloc(size_t size)
{
	void *p = calloc(1, size);

	if (!p)
		abort();
	return p;
}

/* ---- text helpers ------------------------------------------------------ */

static bool span_is(struct span s, const char *str)
{
	return strlen(str) == s.len && memcmp(s.p, str, s.len) == 0;
}

/* Index of @s in @names (NULL entries skipped), or -1. */
static int span_lookup(struct span s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && span_is(s, names[i]))
			return (int)i;
	return -1;
}

/* Next space-separated token; runs of spaces count as one separator. */
static bool next_token(struct span *rest, struct span *tok)
{
	while (rest->len && *rest->p == ' ') {
		rest->p++;
		rest->len--;
	}
	if (!rest->len)
		return false;
	tok->p = rest->p;
	while (rest->len && *rest->p != ' ') {
		rest->p++;
		rest->len--;
	}
	tok->len = (size_t)(rest->p - tok->p);
	return true;
}

static int parse_u64(struct span s, uint64_t *out)
{
	uint64_t val = 0;

	if (!s.len)
		return -EINVAL;
	for (size_t i = 0; i < s.len; i++) {
		unsigned digit = (unsigned char)s.p[i] - '0';

		if (digit > 9 || val > (UINT64_MAX - digit) / 10)
			return -EINVAL;
		val = val * 10 + digit;
	}
	*out = val;
	return 0;
}

static int parse_id(struct span s, int *out)
{
	uint64_t val;

	if (parse_u64(s, &val) < 0 || val > INT_MAX)
		return -EINVAL;
	*out = (int)val;
	return 0;
}

/*
 * done: is printf("%.2f").  Parsed by hand rather than with strtod() because
 * strtod follows the process locale's decimal point and accepts nan/inf/hex.
 */
static int parse_percent(struct span s, double *out)
{
	uint64_t mantissa = 0, scale = 1;
	size_t i, int_digits = 0;

	if (!s.len || s.len > 18)  /* keeps mantissa and scale far from overflow */
		return -EINVAL;
	for (i = 0; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++, int_digits++)
		mantissa = mantissa * 10 + (uint64_t)(s.p[i] - '0');
	if (!int_digits)
		return -EINVAL;
	if (i < s.len) {
		if (s.p[i++] != '.' || i == s.len)
			return -EINVAL;
		for (; i < s.len; i++) {
			if (s.p[i] < '0' || s.p[i] > '9')
				return -EINVAL;
			mantissa = mantissa * 10 + (uint64_t)(s.p[i] - '0');
			scale *= 10;
		}
	}
	*out = (double)mantissa / (double)scale;
	/* DRBD computes done: as 100*(total-(oos-failed))/total, which passes
	 * 100 when many resync requests failed; a percentage it stays. */
	if (*out > 100.0)
		*out = 100.0;
	return 0;
}

/* Resource and connection names: DRBD forbids '/' and control characters. */
static bool valid_name(struct span s)
{
	if (!s.len || s.len >= TS_DRBD_NAME_MAX)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c == '/' || c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

/* YYYY-MM-DDThh:mm:ss, then fraction and zone made of digits . + - : Z */
static bool is_timestamp(struct span s)
{
	static const char pattern[] = "dddd-dd-ddTdd:dd:dd";
	const size_t plen = sizeof(pattern) - 1;

	if (s.len < plen)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		bool digit = c >= '0' && c <= '9';

		if (i < plen ? (pattern[i] == 'd' ? !digit : c != pattern[i])
			     : !(digit || strchr(".+-:Z", c)))
			return false;
	}
	return true;
}

/* --diff prints key:old->new; only the new value matters. */
static struct span diff_new_value(struct span v)
{
	for (size_t i = 0; i + 1 < v.len; i++) {
		if (v.p[i] == '-' && v.p[i + 1] == '>')
			return (struct span){ v.p + i + 2, v.len - i - 2 };
	}
	return v;
}

static void copy_span(char *dst, size_t size, struct span s)
{
	size_t n = s.len < size - 1 ? s.len : size - 1;

	memcpy(dst, s.p, n);
	dst[n] = '\0';
}

/* ---- parsing one line into a struct e2_line ------------------------------ */

static const struct e2_key *find_key(struct span key, enum e2_object object)
{
	for (size_t i = 0; i < ARRAY_SIZE(e2_keys); i++) {
		if ((e2_keys[i].objects & (1u << object)) && span_is(key, e2_keys[i].key))
			return &e2_keys[i];
	}
	return NULL;
}

/* Unknown enum spellings are not errors: newer DRBD may add states. */
static int lookup_enum(struct span s, const char *const *names, size_t n)
{
	int idx = span_lookup(s, names, n);

	return idx < 0 ? 0 : idx;
}

static int convert_value(const struct e2_key *k, struct span s, struct e2_value *out)
{
	if (k->type != T_NAME && k->type != T_ID)
		s = diff_new_value(s);
	switch (k->type) {
	case T_NAME:
		if (!valid_name(s))
			return -EINVAL;
		out->text = s;
		break;
	case T_TEXT:
		out->text = s;
		break;
	case T_ID:
		return parse_id(s, &out->id);
	case T_U64:
		return parse_u64(s, &out->u64);
	case T_PERCENT:
		return parse_percent(s, &out->pct);
	case T_ROLE:
		out->enumval = lookup_enum(s, role_names, ARRAY_SIZE(role_names));
		break;
	case T_CONN:
		out->enumval = lookup_enum(s, conn_names, ARRAY_SIZE(conn_names));
		break;
	case T_DISK:
		out->enumval = lookup_enum(s, disk_names, ARRAY_SIZE(disk_names));
		break;
	case T_REPL:
		out->enumval = lookup_enum(s, repl_names, ARRAY_SIZE(repl_names));
		break;
	}
	return 0;
}

/* One key:value token, split at the FIRST colon: values contain colons. */
static int parse_pair(struct span tok, struct e2_line *pl)
{
	const char *colon = memchr(tok.p, ':', tok.len);
	struct span key, val;
	const struct e2_key *k;
	struct e2_value *slot;

	if (!colon || colon == tok.p)
		return -EINVAL;
	key = (struct span){ tok.p, (size_t)(colon - tok.p) };
	val = (struct span){ colon + 1, tok.len - key.len - 1 };
	k = find_key(key, pl->object);
	if (!k)
		return 0;
	slot = &pl->v[k->field];
	if (convert_value(k, val, slot) < 0)
		return -EINVAL;
	slot->set = true;
	return 0;
}

static bool verb_carries_state(enum e2_verb verb)
{
	return verb == VERB_EXISTS || verb == VERB_CREATE || verb == VERB_CHANGE ||
	       verb == VERB_DESTROY;
}

/*
 * DRBD 8.4 has no node ids (it prints peer-node-id:0 always) and prints
 * conn-name only while the kernel knows a peer address: a StandAlone
 * connection and its peer-devices come without it (real 8.4.11 capture,
 * tests/data/drbd/84-real).  DRBD 9 always prints it.
 */
static bool may_lack_conn_name(const struct e2_line *pl)
{
	return (pl->object == OBJ_CONNECTION || pl->object == OBJ_PEER_DEVICE) &&
	       pl->v[F_PEER_NODE_ID].set && pl->v[F_PEER_NODE_ID].id == 0;
}

static bool has_identity(const struct e2_line *pl)
{
	for (int f = 0; f < F_COUNT; f++) {
		if (!(required_fields[pl->object] & (1ul << f)) || pl->v[f].set)
			continue;
		if (f == F_CONN_NAME && may_lack_conn_name(pl))
			continue;
		return false;
	}
	return true;
}

/*
 * 0 when @pl is ready to be committed, TS_E2_IGNORED / TS_E2_DUMP_DONE for
 * lines that carry no object state, -EINVAL when malformed.
 */
static int parse_line(struct span rest, struct e2_line *pl)
{
	struct span tok;
	int idx;

	if (!next_token(&rest, &tok))
		return TS_E2_IGNORED;
	if (is_timestamp(tok) && !next_token(&rest, &tok))
		return -EINVAL;
	if (span_is(tok, "-"))   /* 8.4: "- skipped N" after a netlink sequence gap */
		return TS_E2_IGNORED;
	idx = span_lookup(tok, verb_names, ARRAY_SIZE(verb_names));
	if (idx < 0 || !next_token(&rest, &tok))
		return -EINVAL;
	pl->verb = (enum e2_verb)idx;
	idx = span_lookup(tok, object_names, ARRAY_SIZE(object_names));
	pl->object = idx < 0 ? OBJ_IGNORED : (enum e2_object)idx;
	if (pl->object == OBJ_DUMP_END)
		return pl->verb == VERB_EXISTS ? TS_E2_DUMP_DONE : -EINVAL;
	if (!verb_carries_state(pl->verb))
		pl->object = OBJ_IGNORED;  /* call/response/rename: check the syntax only */
	while (next_token(&rest, &tok)) {
		if (parse_pair(tok, pl) < 0)
			return -EINVAL;
	}
	if (pl->object == OBJ_IGNORED)
		return TS_E2_IGNORED;
	return has_identity(pl) ? 0 : -EINVAL;
}

/* ---- finding and creating objects ------------------------------------------ */

static bool name_is(const char *name, struct span s)
{
	return strnlen(name, TS_DRBD_NAME_MAX) == s.len && memcmp(name, s.p, s.len) == 0;
}

static long find_resource_index(const struct ts_drbd_model *m, struct span name)
{
	for (size_t i = 0; i < m->n_res; i++) {
		if (name_is(m->res[i]->name, name))
			return (long)i;
	}
	return -1;
}

static struct ts_drbd_resource *line_resource(struct ts_drbd_model *m, const struct e2_line *pl)
{
	long i = find_resource_index(m, pl->v[F_NAME].text);

	return i < 0 ? NULL : m->res[i];
}

static struct ts_drbd_device *find_device(struct ts_drbd_resource *res, int volume)
{
	for (size_t i = 0; res && i < res->n_devices; i++) {
		if (res->devices[i].volume == volume)
			return &res->devices[i];
	}
	return NULL;
}

/*
 * A line without conn-name (8.4, StandAlone) names the connection by node id
 * alone, and a connection first seen that way has no name yet: either matches
 * the other, so the StandAlone of a dump and the create/change lines of a
 * later connect stay one connection.
 */
static struct ts_drbd_connection *find_connection(struct ts_drbd_resource *res,
						  int peer_node_id,
						  const struct e2_value *conn_name)
{
	for (size_t i = 0; res && i < res->n_connections; i++) {
		struct ts_drbd_connection *c = &res->connections[i];

		if (c->peer_node_id != peer_node_id)
			continue;
		if (!conn_name->set || c->conn_name[0] == '\0' ||
		    name_is(c->conn_name, conn_name->text))
			return c;
	}
	return NULL;
}

/* conn-name is part of the line's identity, but a peer is already unique by node id. */
static struct ts_drbd_peer_device *find_peer_device(struct ts_drbd_resource *res,
						    int peer_node_id, int volume)
{
	for (size_t i = 0; res && i < res->n_peer_devices; i++) {
		struct ts_drbd_peer_device *pd = &res->peer_devices[i];

		if (pd->peer_node_id == peer_node_id && pd->volume == volume)
			return pd;
	}
	return NULL;
}

/*
 * Whether a new sub-object fits: into @res when it exists (holding @used of
 * @max), else into a resource that would be created for it.
 */
static bool room_for(const struct ts_drbd_model *m, const struct ts_drbd_resource *res,
		     size_t used, size_t max)
{
	return res ? used < max : m->n_res < TS_DRBD_MAX_RESOURCES;
}

static struct ts_drbd_resource *add_resource(struct ts_drbd_model *m, struct span name)
{
	struct ts_drbd_resource *res = xzalloc(sizeof(*res));

	copy_span(res->name, sizeof(res->name), name);
	res->role = TS_ROLE_UNKNOWN;
	m->res[m->n_res++] = res;
	return res;
}

/* The line's resource, created when missing; callers checked room_for(). */
static struct ts_drbd_resource *get_resource(struct ts_drbd_model *m, const struct e2_line *pl)
{
	struct ts_drbd_resource *res = line_resource(m, pl);

	return res ? res : add_resource(m, pl->v[F_NAME].text);
}

/* Drop element @i of an array holding *@n elements, keeping the order. */
static void remove_slot(void *base, size_t elem_size, size_t *n, size_t i)
{
	char *arr = base;

	memmove(arr + i * elem_size, arr + (i + 1) * elem_size, (*n - i - 1) * elem_size);
	(*n)--;
	/* zero the freed tail so equal states are equal byte for byte */
	memset(arr + *n * elem_size, 0, elem_size);
}

static void remove_peer_devices(struct ts_drbd_resource *res, int peer_node_id, int volume)
{
	for (size_t i = res->n_peer_devices; i-- > 0;) {
		const struct ts_drbd_peer_device *pd = &res->peer_devices[i];

		if ((peer_node_id < 0 || pd->peer_node_id == peer_node_id) &&
		    (volume < 0 || pd->volume == volume))
			remove_slot(res->peer_devices, sizeof(*pd), &res->n_peer_devices, i);
	}
}

/* ---- committing a parsed line ------------------------------------------------- */

static bool verb_needs_object(enum e2_verb verb)
{
	return verb == VERB_CHANGE || verb == VERB_DESTROY;
}

static void merge_resource(struct ts_drbd_resource *res, const struct e2_line *pl)
{
	if (pl->v[F_ROLE].set)
		res->role = (enum ts_drbd_role)pl->v[F_ROLE].enumval;
	if (pl->v[F_SUSPENDED].set) {
		struct span s = pl->v[F_SUSPENDED].text;

		res->suspended = !span_is(s, "no");
		copy_span(res->suspended_reason, sizeof(res->suspended_reason), s);
	}
}

static int commit_resource(struct ts_drbd_model *m, const struct e2_line *pl)
{
	long i = find_resource_index(m, pl->v[F_NAME].text);

	if (i < 0) {
		if (verb_needs_object(pl->verb))
			return -EINVAL;
		if (!room_for(m, NULL, 0, 0))
			return -ENOSPC;
	} else if (pl->verb == VERB_DESTROY) {
		free(m->res[i]);
		remove_slot(m->res, sizeof(m->res[0]), &m->n_res, (size_t)i);
		return TS_E2_APPLIED;
	}
	merge_resource(get_resource(m, pl), pl);
	return TS_E2_APPLIED;
}

static void merge_device(struct ts_drbd_device *dev, const struct e2_line *pl)
{
	if (pl->v[F_MINOR].set)
		dev->minor = pl->v[F_MINOR].id;
	if (pl->v[F_DISK].set)
		dev->disk = (enum ts_drbd_disk)pl->v[F_DISK].enumval;
	if (pl->v[F_UPPER_PENDING].set)
		dev->upper_pending = pl->v[F_UPPER_PENDING].u64;
	if (pl->v[F_LOWER_PENDING].set)
		dev->lower_pending = pl->v[F_LOWER_PENDING].u64;
}

static int commit_device(struct ts_drbd_model *m, const struct e2_line *pl)
{
	struct ts_drbd_resource *res = line_resource(m, pl);
	int volume = pl->v[F_VOLUME].id;
	struct ts_drbd_device *dev = find_device(res, volume);

	if (!res || !dev) {
		if (verb_needs_object(pl->verb))
			return -EINVAL;
		if (!room_for(m, res, res ? res->n_devices : 0, TS_DRBD_MAX_VOLUMES))
			return -ENOSPC;
		res = get_resource(m, pl);
		dev = &res->devices[res->n_devices++];
		dev->volume = volume;
		dev->minor = -1;
	} else if (pl->verb == VERB_DESTROY) {
		remove_peer_devices(res, -1, volume);
		remove_slot(res->devices, sizeof(*dev), &res->n_devices,
			    (size_t)(dev - res->devices));
		return TS_E2_APPLIED;
	}
	merge_device(dev, pl);
	return TS_E2_APPLIED;
}

static void merge_connection(struct ts_drbd_connection *c, const struct e2_line *pl)
{
	if (pl->v[F_CONNECTION].set)
		c->state = (enum ts_drbd_conn)pl->v[F_CONNECTION].enumval;
	if (pl->v[F_ROLE].set)
		c->peer_role = (enum ts_drbd_role)pl->v[F_ROLE].enumval;
	if (pl->v[F_AP_IN_FLIGHT].set)
		c->ap_in_flight = pl->v[F_AP_IN_FLIGHT].u64;
	if (pl->v[F_RS_IN_FLIGHT].set)
		c->rs_in_flight = pl->v[F_RS_IN_FLIGHT].u64;
}

static int commit_connection(struct ts_drbd_model *m, const struct e2_line *pl)
{
	struct ts_drbd_resource *res = line_resource(m, pl);
	int peer = pl->v[F_PEER_NODE_ID].id;
	struct ts_drbd_connection *c = find_connection(res, peer, &pl->v[F_CONN_NAME]);

	if (!res || !c) {
		if (verb_needs_object(pl->verb))
			return -EINVAL;
		if (!room_for(m, res, res ? res->n_connections : 0, TS_DRBD_MAX_PEERS))
			return -ENOSPC;
		res = get_resource(m, pl);
		c = &res->connections[res->n_connections++];
		c->peer_node_id = peer;
	} else if (pl->verb == VERB_DESTROY) {
		remove_peer_devices(res, peer, -1);
		remove_slot(res->connections, sizeof(*c), &res->n_connections,
			    (size_t)(c - res->connections));
		return TS_E2_APPLIED;
	}
	if (pl->v[F_CONN_NAME].set)
		copy_span(c->conn_name, sizeof(c->conn_name), pl->v[F_CONN_NAME].text);
	merge_connection(c, pl);
	return TS_E2_APPLIED;
}

/*
 * 8.4 prints no done:, so remember how much was out of sync when the resync
 * began (the largest value seen while it runs: out-of-sync may still grow
 * during the bitmap exchange) to estimate progress later.  A done: left over
 * from an earlier resync would be stale once a new one starts.
 */
static void track_resync(struct ts_drbd_peer_device *pd, bool was_resyncing, bool done_given)
{
	if (!ts_drbd_repl_is_resync(pd->replication)) {
		pd->resync_total = 0;
		return;
	}
	if (!was_resyncing) {
		pd->resync_total = pd->out_of_sync;
		if (!done_given) {
			pd->has_done = false;
			pd->done = 0;
		}
		return;
	}
	if (pd->out_of_sync > pd->resync_total)
		pd->resync_total = pd->out_of_sync;
}

static void merge_peer_device(struct ts_drbd_peer_device *pd, const struct e2_line *pl)
{
	bool was_resyncing = ts_drbd_repl_is_resync(pd->replication);

	if (pl->v[F_REPLICATION].set)
		pd->replication = (enum ts_drbd_repl)pl->v[F_REPLICATION].enumval;
	if (pl->v[F_PEER_DISK].set)
		pd->peer_disk = (enum ts_drbd_disk)pl->v[F_PEER_DISK].enumval;
	if (pl->v[F_RESYNC_SUSPENDED].set)
		pd->resync_suspended = !span_is(pl->v[F_RESYNC_SUSPENDED].text, "no");
	if (pl->v[F_DONE].set) {
		pd->done = pl->v[F_DONE].pct;
		pd->has_done = true;
	}
	if (pl->v[F_OUT_OF_SYNC].set)
		pd->out_of_sync = pl->v[F_OUT_OF_SYNC].u64;
	if (pl->v[F_PENDING].set)
		pd->pending = pl->v[F_PENDING].u64;
	if (pl->v[F_UNACKED].set)
		pd->unacked = pl->v[F_UNACKED].u64;
	track_resync(pd, was_resyncing, pl->v[F_DONE].set);
}

static int commit_peer_device(struct ts_drbd_model *m, const struct e2_line *pl)
{
	struct ts_drbd_resource *res = line_resource(m, pl);
	int peer = pl->v[F_PEER_NODE_ID].id, volume = pl->v[F_VOLUME].id;
	struct ts_drbd_peer_device *pd = find_peer_device(res, peer, volume);

	if (!res || !pd) {
		if (verb_needs_object(pl->verb))
			return -EINVAL;
		if (!room_for(m, res, res ? res->n_peer_devices : 0, MAX_PEER_DEVICES))
			return -ENOSPC;
		res = get_resource(m, pl);
		pd = &res->peer_devices[res->n_peer_devices++];
		pd->peer_node_id = peer;
		pd->volume = volume;
	} else if (pl->verb == VERB_DESTROY) {
		remove_peer_devices(res, peer, volume);
		return TS_E2_APPLIED;
	}
	merge_peer_device(pd, pl);
	return TS_E2_APPLIED;
}

static int commit_line(struct ts_drbd_model *m, const struct e2_line *pl)
{
	switch (pl->object) {
	case OBJ_RESOURCE:
		return commit_resource(m, pl);
	case OBJ_DEVICE:
		return commit_device(m, pl);
	case OBJ_CONNECTION:
		return commit_connection(m, pl);
	case OBJ_PEER_DEVICE:
		return commit_peer_device(m, pl);
	default:
		return TS_E2_IGNORED;
	}
}

/* ---- public interface -------------------------------------------------------- */

struct ts_drbd_model *ts_drbd_model_create(void)
{
	return xzalloc(sizeof(struct ts_drbd_model));
}

void ts_drbd_model_reset(struct ts_drbd_model *m)
{
	for (size_t i = 0; i < m->n_res; i++) {
		free(m->res[i]);
		m->res[i] = NULL;
	}
	m->n_res = 0;
	m->dump_complete = false;
}

void ts_drbd_model_destroy(struct ts_drbd_model *m)
{
	if (!m)
		return;
	ts_drbd_model_reset(m);
	free(m);
}

int ts_drbd_model_apply_line(struct ts_drbd_model *m, const char *line)
{
	struct span text;
	struct e2_line pl;
	int rc;

	if (!m || !line)
		return -EINVAL;
	text = (struct span){ line, strlen(line) };
	if (text.len && text.p[text.len - 1] == '\n')
		text.len--;
	if (text.len && text.p[text.len - 1] == '\r')
		text.len--;
	if (text.len && text.p[0] == '#')
		return TS_E2_IGNORED;
	memset(&pl, 0, sizeof(pl));
	rc = parse_line(text, &pl);
	if (rc == TS_E2_DUMP_DONE)
		m->dump_complete = true;
	if (rc != 0)
		return rc;
	return commit_line(m, &pl);
}

void ts_drbd_model_apply_text(struct ts_drbd_model *m, char *text)
{
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		ts_drbd_model_apply_line(m, line);
}

bool ts_drbd_model_dump_complete(const struct ts_drbd_model *m)
{
	return m->dump_complete;
}

size_t ts_drbd_model_count(const struct ts_drbd_model *m)
{
	return m->n_res;
}

const struct ts_drbd_resource *ts_drbd_model_at(const struct ts_drbd_model *m, size_t i)
{
	return i < m->n_res ? m->res[i] : NULL;
}

const struct ts_drbd_resource *ts_drbd_model_find(const struct ts_drbd_model *m, const char *name)
{
	long i;

	if (!name)
		return NULL;
	i = find_resource_index(m, (struct span){ name, strlen(name) });
	return i < 0 ? NULL : m->res[i];
}

bool ts_drbd_repl_is_resync(enum ts_drbd_repl r)
{
	switch (r) {
	case TS_REPL_STARTINGSYNCS:
	case TS_REPL_STARTINGSYNCT:
	case TS_REPL_WFBITMAPS:
	case TS_REPL_WFBITMAPT:
	case TS_REPL_WFSYNCUUID:
	case TS_REPL_SYNCSOURCE:
	case TS_REPL_SYNCTARGET:
	case TS_REPL_PAUSEDSYNCS:
	case TS_REPL_PAUSEDSYNCT:
		return true;
	default:
		return false;
	}
}

/* done: when DRBD printed one, else the 8.4 estimate, else -1. */
static double peer_device_progress(const struct ts_drbd_peer_device *pd)
{
	uint64_t total = pd->resync_total, left = pd->out_of_sync;

	if (pd->has_done)
		return pd->done;
	if (!total)
		return -1;
	if (left > total)
		left = total;
	return 100.0 * (double)(total - left) / (double)total;
}

bool ts_drbd_resource_resyncing(const struct ts_drbd_resource *res, double *done_pct)
{
	bool resyncing = false;
	double lowest = -1;

	for (size_t i = 0; i < res->n_peer_devices; i++) {
		const struct ts_drbd_peer_device *pd = &res->peer_devices[i];
		double pct;

		if (!ts_drbd_repl_is_resync(pd->replication))
			continue;
		resyncing = true;
		pct = peer_device_progress(pd);
		if (pct >= 0 && (lowest < 0 || pct < lowest))
			lowest = pct;
	}
	if (done_pct)
		*done_pct = lowest;
	return resyncing;
}

static const char *enum_str(unsigned v, const char *const *names, size_t n, const char *fallback)
{
	return v < n && names[v] ? names[v] : fallback;
}

const char *ts_drbd_role_str(enum ts_drbd_role v)
{
	return enum_str((unsigned)v, role_names, ARRAY_SIZE(role_names), "Unknown");
}

const char *ts_drbd_conn_str(enum ts_drbd_conn v)
{
	return enum_str((unsigned)v, conn_names, ARRAY_SIZE(conn_names), "unknown");
}

const char *ts_drbd_disk_str(enum ts_drbd_disk v)
{
	return enum_str((unsigned)v, disk_names, ARRAY_SIZE(disk_names), "unknown");
}

const char *ts_drbd_repl_str(enum ts_drbd_repl v)
{
	return enum_str((unsigned)v, repl_names, ARRAY_SIZE(repl_names), "unknown");
}
