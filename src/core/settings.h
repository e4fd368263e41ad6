/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * settings — the cluster-wide settings both PMs hold a replica of
 * (maintenance mode per PM, snapshots enabled/disabled).  Pure.
 *
 * Each setting carries a version and the nodeid that wrote it.  A change is
 * proposed as (current version + 1) and multicast over CPG; every PM merges
 * what it delivers with one deterministic rule — the higher version wins, on
 * equal versions the higher origin nodeid — so two PMs that exchange their
 * settings after a partition converge on the same values, whatever the order.
 */
#ifndef TS_SETTINGS_H
#define TS_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_SETTING_KEY_MAX 80
#define TS_SETTING_VALUE_MAX 16
#define TS_SETTINGS_MAX 64

struct ts_setting {
	char key[TS_SETTING_KEY_MAX];
	char value[TS_SETTING_VALUE_MAX];
	uint64_t version;
	uint32_t origin;        /* nodeid of the PM that proposed it */
};

struct ts_settings;

struct ts_settings *ts_settings_create(void);
void ts_settings_destroy(struct ts_settings *s);

/** 0 if @key/@value form a valid setting, -EINVAL otherwise. */
int ts_setting_validate(const char *key, const char *value);

/** Build "maintenance/NODE" into @buf; -EINVAL on an invalid node name. */
int ts_settings_maintenance_key(const char *node, char *buf, size_t len);

/**
 * Propose @key=@value from @origin: fills @out with the next version.
 * Does not change @s (the change takes effect when it is delivered).
 */
int ts_settings_propose(const struct ts_settings *s, const char *key,
			const char *value, uint32_t origin, struct ts_setting *out);

/**
 * Merge a delivered setting.  Returns 1 if it was adopted and the value
 * changed, 0 if it was adopted without a value change or was stale,
 * -EINVAL if invalid, -ENOSPC when full.
 */
int ts_settings_merge(struct ts_settings *s, const struct ts_setting *in);

const struct ts_setting *ts_settings_get(const struct ts_settings *s, const char *key);
size_t ts_settings_count(const struct ts_settings *s);
const struct ts_setting *ts_settings_at(const struct ts_settings *s, size_t i);

bool ts_settings_maintenance(const struct ts_settings *s, const char *node);
bool ts_settings_snapshots_enabled(const struct ts_settings *s);

#endif
