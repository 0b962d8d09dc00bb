/*
 * flagstest.h: what the flag suites (check_flags_live, check_flags_faults,
 * check_flags_durable) share: the demo's seven flags and four stages,
 * flag and stage calls that must succeed, and what warden, a reader of
 * the table in this process and `wardenctl flag read` must say. Like
 * testlib.h, the helpers keep the names the suite gave them.
 */
#ifndef WARDEN_TESTS_FLAGSTEST_H
#define WARDEN_TESTS_FLAGSTEST_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "harness.h"
#include "warden.h"

#define NIDS		1000	/* ids a rollout is checked over */

/* The demo's seven flags, in stage order, and its four stages. */
enum { REG, MON, LOG, TEL, SPAN, SAMP, ENF, NFLAGS };

extern const char *const fname[NFLAGS];

#define DEMO_FLAGS							\
	"'flags': {"							\
	" 'use_ets_agent_registry': { 'default': false,"		\
	"   'description': 'registry in a shared table' },"		\
	" 'enable_migration_monitoring': { 'default': false },"	\
	" 'use_logger_error_context': { 'default': false },"		\
	" 'use_genserver_telemetry': { 'default': false },"		\
	" 'use_genserver_span_management': { 'default': false },"	\
	" 'use_ets_sampled_events': { 'default': false },"		\
	" 'enforce_no_process_dict': { 'default': false } },"		\
	" 'stages': ["							\
	"  { 'stage': 1, 'enable': ['use_ets_agent_registry',"	\
	"    'enable_migration_monitoring'] },"				\
	"  { 'stage': 2, 'enable': ['use_logger_error_context'] },"	\
	"  { 'stage': 3, 'enable': ['use_genserver_telemetry',"	\
	"    'use_genserver_span_management', 'use_ets_sampled_events'] },"\
	"  { 'stage': 4, 'enable': ['enforce_no_process_dict'] } ]"

/* Flags and stages, and no worker: nothing to wait for at start or stop. */
extern const char	conf_demo[];
/* Flag values (0..100, fname order) at each stage from the defaults. */
extern const int	at_stage[5][NFLAGS];

/* A protocol value (true, false, 0..100) as 0..100, and back. */
int		 value_int(const json_t *v);
json_t		*value_json(int v);
/* The member of an array of objects whose "name" is name, or NULL. */
json_t		*by_name(const json_t *list, const char *name);

/* flag.set; the answer is the flag, with the new value. */
json_t		*flag_set(struct harness *h, const char *name, int value,
		    const char *reason);
void		 flag_set_ok(struct harness *h, const char *name, int value);
/* stage.set or stage.rollback (stage < 0: the default); the answer. */
json_t		*stage_call(struct harness *h, const char *method, int stage);
/* The same, which must leave the stage at want. */
void		 stage_ok(struct harness *h, const char *method, int stage,
		    int want);
int		 stage_now(struct harness *h);

/* Is id in flag's rollout at v percent (SPEC 4)? */
bool		 in_rollout(const char *flag, const char *id, int v);
/* "user-<i>" into buf. */
void		 id_of(char *buf, size_t len, int i);
/*
 * A reader of the table sees flag at value v, for NIDS ids too; asked
 * with the opposite of each expected answer as its default.
 */
void		 expect_reader_value(warden_table *t, const char *flag, int v);
/* The reader sees this stage and these values. */
void		 expect_reader(warden_table *t, int stage,
		    const int want[NFLAGS]);
/*
 * A reader of h's table in this process, which tries to reattach on every
 * read that finds its table retired or damaged.
 */
warden_table	*reader_open(struct harness *h);
/* `wardenctl -j flag read FLAG [ID] --table NAME`: another process. */
json_t		*ctl_read(struct harness *h, const char *flag, const char *id);
void		 expect_ctl_read(struct harness *h, const char *flag,
		    const char *id, bool enabled, int stage);
/*
 * Values and stage as warden holds them (flag.list) and, when t is not
 * NULL, as a reader of the table sees them.
 */
void		 expect_flags(struct harness *h, warden_table *t, int stage,
		    const int want[NFLAGS]);
/* "/dev/shm<table>" into buf: the file behind h's table. */
void		 shm_path(struct harness *h, char *buf, size_t len);
/* Events of this type in list. */
size_t		 count_type(const json_t *list, const char *type);

#endif
