/*
 * fleettest.c: random texts for the fleet's readers (fleettest.h).
 */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flagcoretest.h"
#include "fleet.h"
#include "fleettest.h"
#include "util.h"

static const char *const fleettest_keys[] = { "stage", "value", "by", "host", "uid",
	"pid", "at", "reason", "emergency", "generation", "revision",
	"applied_at", "unreachable_since", "guard", "from", "to", "rejected",
	"key", "reset", "x" };

static uint64_t	fleettest_state = 1;

static uint32_t
fleettest_next(void)
{
	/* xorshift64*: the same texts on every run. */
	fleettest_state ^= fleettest_state >> 12;
	fleettest_state ^= fleettest_state << 25;
	fleettest_state ^= fleettest_state >> 27;
	return (uint32_t)((fleettest_state * 2685821657736338717ULL) >> 32);
}

static json_t *
fleettest_value(int depth)
{
	static const json_int_t	ints[] = { 0, 1, 2, 4, 5, 100, 101, -1,
		1000000, 1000001, INT_MAX, (json_int_t)INT_MAX + 1, 4294967294LL,
		4294967295LL, INT64_MAX, INT64_MIN, T0 };
	static const char *const strs[] = { "", "h", "web-1", "a b", "\xc3\xa9",
		"dark_mode", "x\x01y" };
	json_t	*v;
	size_t	 i, n;

	switch (fleettest_next() % (depth > 3 ? 6 : 8)) {
	case 0:
		return json_integer(ints[fleettest_next() % nitems(ints)]);
	case 1:
		return json_integer((json_int_t)fleettest_next() - 1000);
	case 2:
		return json_string(strs[fleettest_next() % nitems(strs)]);
	case 3:
		return json_boolean(fleettest_next() % 2);
	case 4:
		return json_null();
	case 5:
		return json_real((double)fleettest_next() / 7.0);
	case 6:
		v = json_array();
		for (i = 0, n = fleettest_next() % 4; i < n; i++)
			json_array_append_new(v, fleettest_value(depth + 1));
		return v;
	default:
		v = json_object();
		for (i = 0, n = fleettest_next() % 8; i < n; i++)
			json_object_set_new(v, fleettest_keys[fleettest_next() %
			    nitems(fleettest_keys)], fleettest_value(depth + 1));
		return v;
	}
}

/* A field's value as a writer would put it. */
static json_t *
fleettest_good(const char *field)
{
	if (strcmp(field, "by") == 0)
		return json_pack("{s:s, s:i, s:i}", "host", fleettest_next() % 2 ?
		    "web-1" : "h", "uid", (int)(fleettest_next() % 2000), "pid",
		    (int)(fleettest_next() % 70000));
	if (strcmp(field, "value") == 0)
		return fleettest_next() % 2 ? json_boolean(fleettest_next() % 2) :
		    json_integer(fleettest_next() % 101);
	if (strcmp(field, "emergency") == 0)
		return json_false();
	if (strcmp(field, "reset") == 0)
		return json_true();
	if (strcmp(field, "reason") == 0)
		return fleettest_next() % 2 ? json_null() : json_string("why");
	if (strcmp(field, "guard") == 0)
		return fleettest_next() % 2 ? json_null() : json_pack("{s:i, s:i, "
		    "s:I, s:n}", "from", 2, "to", 1, "at", (json_int_t)T0, "reason");
	if (strcmp(field, "rejected") == 0)
		return json_pack("[{s:s, s:i, s:s}]", "key", "/warden/x",
		    "revision", 3, "reason", "no");
	if (strcmp(field, "unreachable_since") == 0)
		return json_integer(T0);
	return json_integer(fleettest_next() % 6);
}

/* A value most readers get far into: the right fields, some of them wrong. */
static json_t *
fleettest_object(void)
{
	static const char *const kinds[3][9] = {
		{ "stage", "emergency", "by", "at", "reason", NULL },
		{ "value", "reset", "by", "at", "reason", NULL },
		{ "stage", "generation", "revision", "applied_at",
		    "unreachable_since", "guard", "rejected", NULL },
	};
	const char *const	*f = kinds[fleettest_next() % 3];
	json_t			*v = json_object();

	for (; *f != NULL; f++)
		if (fleettest_next() % 16 != 0)
			json_object_set_new(v, *f, fleettest_next() % 8 ?
			    fleettest_good(*f) : fleettest_value(2));
	if (fleettest_next() % 16 == 0)
		json_object_set_new(v, fleettest_keys[fleettest_next() %
		    nitems(fleettest_keys)], fleettest_value(2));
	return v;
}

void
fleettest_seed(uint64_t seed)
{
	fleettest_state = seed != 0 ? seed : 1;
}

uint32_t
fleettest_random(void)
{
	return fleettest_next();
}

char *
fleettest_text(size_t *len)
{
	char	*t = fleet_value_text(fleettest_next() % 2 ? fleettest_object() :
		    fleettest_value(0));
	size_t	 i;

	*len = strlen(t);
	if (fleettest_next() % 4 == 0 && *len > 0)
		for (i = fleettest_next() % 4; i < 4; i++)
			t[fleettest_next() % *len] = (char)(fleettest_next() % 256);
	if (fleettest_next() % 8 == 0)
		*len = fleettest_next() % (*len + 1);
	return t;
}
