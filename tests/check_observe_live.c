/*
 * check_observe_live.c: who reads what and the propagation barrier with
 * the real daemon and workers that read through libwarden
 * (tests/workers/report-worker.c): a barrier over three readers, a
 * stopped one named at the deadline, a worker that never reads left out,
 * a fork's reports, reports from outside the worker and garbage dropped
 * and counted while warden stays prompt, the table deleted mid-barrier,
 * a reexec, and flag.get / flag.list's readers. check_observe.c has the
 * pure half and the library.
 *
 * A report-worker prints "MODE pid N" after its first read, which sent
 * its first report before: once warden logged that line, it has read the
 * report too (the datagram was queued first, and a turn of warden's loop
 * serves every ready fd).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "testlib.h"
#include "util.h"
#include "suite.h"

#define T_WAIT		10000	/* failure bound of one wait, ms */

#define OBS_FLAGS							\
	"'flags': { 'a': { 'default': false }, 'b': { 'default': false },"\
	" 'c': { 'default': false } },"					\
	" 'stages': [ { 'stage': 1, 'enable': ['a'] },"			\
	"  { 'stage': 2, 'enable': ['b'] } ]"

#define OBS_READER(name, mode, flag)					\
	" { 'name': '" name "', 'command': ['@BIN@/tests/report-worker',"\
	" '" mode "', '" flag "'] }"

/* Three readers of a, one of b, and one worker that never reads. */
static const char obs_conf[] =
    "{ " OBS_FLAGS ", 'supervisor': { 'children': ["
    OBS_READER("r1", "read", "a") ","
    OBS_READER("r2", "read", "a") ","
    OBS_READER("r3", "read", "b") ","
    " { 'name': 'idle', 'command': ['@WORKER@'] } ] } }";

/* Each reader's first report is in: its line is in the log. */
static void
obs_wait_read(struct harness *h, const char *service, const char *mode)
{
	char	line[64];

	snprintf(line, sizeof(line), "%s: %s pid ", service, mode);
	ck_assert_msg(harness_wait_log(h, line, T_WAIT) == 0, "no '%s'", line);
}

static void
obs_start(struct harness *h, const char *conf)
{
	start(h, conf);
	obs_wait_read(h, "r1", "read");
	obs_wait_read(h, "r2", "read");
	obs_wait_read(h, "r3", "read");
}

/*
 * A ping on c, answered while the barrier asked before it on c waits:
 * warden made the change and holds its answer.
 */
static void
obs_held(struct harness_conn *c)
{
	json_t	*o;

	ck_assert_int_ne(harness_conn_request(c, "ping", NULL), -1);
	o = harness_read_line(c, T_WAIT);
	ck_assert_msg(o != NULL && json_object_get(o, "result") != NULL &&
	    json_object_get(json_object_get(o, "result"), "observed") == NULL,
	    "not the ping's answer first: %s", dump(o));
	json_decref(o);
}

/* A flag.set with wait_observed; its result's "observed", *ms its time. */
static json_t *
obs_set(struct harness *h, const char *flag, bool on, json_int_t wait,
    uint64_t *ms)
{
	json_t		*r, *o;
	uint64_t	 t0 = util_now_ms();

	r = result(h, "flag.set", json_pack("{s:s,s:b,s:I}", "name", flag,
	    "value", on, "wait_observed", wait));
	if (ms != NULL)
		*ms = util_now_ms() - t0;
	o = json_object_get(r, "observed");
	ck_assert_msg(json_is_object(o), "no observed: %s", dump(r));
	json_incref(o);
	json_decref(r);
	return o;
}

static void
obs_complete(const json_t *o, long long readers)
{
	ck_assert_msg(json_is_true(json_object_get(o, "complete")) &&
	    num(o, "readers") == readers &&
	    json_array_size(json_object_get(o, "laggards")) == 0,
	    "want complete with %lld readers: %s", readers, dump(o));
}

/* Is service, at pid, a laggard? */
static bool
obs_lags(const json_t *o, const char *service, pid_t pid)
{
	const json_t	*l;
	size_t		 i;

	json_array_foreach(json_object_get(o, "laggards"), i, l)
		if (strcmp(str(l, "service"), service) == 0 &&
		    num(l, "pid") == pid)
			return true;
	return false;
}

/* The one laggard is service, at pid. */
static void
obs_laggard(const json_t *o, const char *service, pid_t pid)
{
	const json_t	*l = json_array_get(json_object_get(o, "laggards"), 0);

	ck_assert_msg(json_is_false(json_object_get(o, "complete")) &&
	    json_array_size(json_object_get(o, "laggards")) == 1 &&
	    strcmp(str(l, "service"), service) == 0 && num(l, "pid") == pid &&
	    num(l, "generation") < num(o, "generation"),
	    "want %s (pid %ld) the one laggard: %s", service, (long)pid,
	    dump(o));
}

START_TEST(test_barrier)
{
	struct harness	 h;
	json_t		*o;
	uint64_t	 ms;
	pid_t		 r2;

	obs_start(&h, obs_conf);
	/* The idle worker never read: not a reader, not waited for. */
	o = obs_set(&h, "a", true, 5000, NULL);
	obs_complete(o, 3);
	json_decref(o);
	/* A reader that stops reading is named at the deadline. */
	r2 = pid_of(&h, "r2");
	ck_assert_int_eq(kill(r2, SIGSTOP), 0);
	o = obs_set(&h, "a", false, 300, &ms);
	obs_laggard(o, "r2", r2);
	ck_assert_msg(num(o, "waited_ms") >= 295 && ms >= 295 && ms < 5000,
	    "answered after %llu ms: %s", (unsigned long long)ms, dump(o));
	json_decref(o);
	/* 0: at once, with the laggards of now (the others, too, may be). */
	o = obs_set(&h, "b", true, 0, &ms);
	ck_assert_msg(json_is_false(json_object_get(o, "complete")) &&
	    obs_lags(o, "r2", r2) && num(o, "waited_ms") < 300, "%s", dump(o));
	json_decref(o);
	/* An hour is accepted; answered once it is observed. */
	ck_assert_int_eq(kill(r2, SIGCONT), 0);
	o = obs_set(&h, "c", true, 3600000, &ms);
	obs_complete(o, 3);
	json_decref(o);
	/* A reader that exits is no longer one. */
	json_decref(result(&h, "service.stop", json_pack("{s:s}", "service",
	    "r3")));
	o = obs_set(&h, "c", false, 5000, NULL);
	obs_complete(o, 2);
	json_decref(o);
	stop(&h);
}
END_TEST

/* The stage methods wait the same way. */
START_TEST(test_barrier_stages)
{
	struct harness	 h;
	json_t		*r;
	const char	*methods[] = { "stage.set", "stage.rollback",
			    "stage.emergency" };
	size_t		 i;

	obs_start(&h, obs_conf);
	for (i = 0; i < 3; i++) {
		r = result(&h, methods[i], i == 0 ?
		    json_pack("{s:i,s:i}", "stage", 2, "wait_observed", 5000) :
		    json_pack("{s:i}", "wait_observed", 5000));
		obs_complete(json_object_get(r, "observed"), 3);
		json_decref(r);
	}
	r = result(&h, "flag.reset", json_pack("{s:s,s:i}", "name", "a",
	    "wait_observed", 5000));
	obs_complete(json_object_get(r, "observed"), 3);
	json_decref(r);
	stop(&h);
}
END_TEST

/* Out of bounds or no integer: refused, naming the bound; nothing changed. */
START_TEST(test_bad_wait)
{
	struct harness	 h;
	json_t		*e, *r, *bad[4];
	size_t		 i;

	start(&h, "{ " OBS_FLAGS ", 'supervisor': { 'children': [] } }");
	bad[0] = json_integer(3600001);
	bad[1] = json_integer(-1);
	bad[2] = json_string("x");
	bad[3] = json_real(1.5);
	for (i = 0; i < 4; i++) {
		e = expect_error_object(&h, "flag.set", json_pack("{s:s,s:b,s:O}",
		    "name", "a", "value", 1, "wait_observed", bad[i]),
		    -32602, "invalid_params");
		ck_assert_msg(strstr(str(e, "message"), "0 to 3600000") != NULL,
		    "%s", dump(e));
		json_decref(e);
		e = expect_error_object(&h, "stage.set", json_pack("{s:i,s:O}",
		    "stage", 1, "wait_observed", bad[i]), -32602,
		    "invalid_params");
		json_decref(e);
		json_decref(bad[i]);
	}
	r = result(&h, "flag.get", json_pack("{s:s}", "name", "a"));
	ck_assert_msg(json_is_false(json_object_get(r, "value")), "%s", dump(r));
	json_decref(r);
	r = result(&h, "stage.get", NULL);
	ck_assert_int_eq(num(r, "stage"), 0);
	json_decref(r);
	/* No reader at all: complete at once. */
	r = result(&h, "flag.set", json_pack("{s:s,s:b,s:i}", "name", "a",
	    "value", 1, "wait_observed", 3600000));
	obs_complete(json_object_get(r, "observed"), 0);
	json_decref(r);
	stop(&h);
}
END_TEST

/* A fork reading through the handle it inherited counts for its worker. */
START_TEST(test_fork)
{
	struct harness	 h;
	json_t		*o, *svc, *reads, *g;
	char		*log, *p;
	long		 child;
	size_t		 i;
	bool		 seen = false;

	start(&h, "{ " OBS_FLAGS ", 'supervisor': { 'children': ["
	    OBS_READER("f", "fork", "a") "] } }");
	ck_assert_int_eq(harness_wait_log(&h, "f: child pid ", T_WAIT), 0);
	log = harness_log(&h);
	p = strstr(log, "f: child pid ");
	ck_assert_ptr_nonnull(p);
	child = strtol(p + strlen("f: child pid "), NULL, 10);
	free(log);
	/* Only the fork reads now: the barrier waits for it, and gets it. */
	o = obs_set(&h, "a", true, 5000, NULL);
	obs_complete(o, 1);
	json_decref(o);
	svc = service_of(&h, "f");
	reads = json_object_get(svc, "reads");
	json_array_foreach(json_object_get(reads, "readers"), i, g)
		if (num(g, "pid") == child && num(g, "generation") ==
		    num(reads, "generation"))
			seen = true;
	ck_assert_msg(seen, "the fork %ld is not a reader: %s", child,
	    dump(svc));
	json_decref(svc);
	/* Without the fork, the worker is a laggard, named by its own pid. */
	ck_assert_int_eq(kill((pid_t)child, SIGSTOP), 0);
	o = obs_set(&h, "a", false, 200, NULL);
	obs_laggard(o, "f", (pid_t)child);
	json_decref(o);
	ck_assert_int_eq(kill((pid_t)child, SIGCONT), 0);
	stop(&h);
}
END_TEST

/* The address warden gave a worker, from its environment. */
static char *
obs_report_addr(pid_t pid)
{
	char	 path[64], *env, *p, *end;
	size_t	 len = 0;

	snprintf(path, sizeof(path), "/proc/%ld/environ", (long)pid);
	env = harness_read_file(path);
	ck_assert_ptr_nonnull(env);
	/* NUL-separated: walk it by the file's own length. */
	end = env;
	for (p = env; ; p += len + 1) {
		len = strlen(p);
		if (strncmp(p, "WARDEN_REPORT=", 14) == 0) {
			end = strdup(p + 14);
			free(env);
			return end;
		}
		if (len == 0)
			break;
	}
	free(env);
	ck_abort_msg("no WARDEN_REPORT in the environment of %ld", (long)pid);
	return NULL;
}

static int
obs_send(const char *addr, const char *msg, size_t n)
{
	struct sockaddr_un	sun;
	int			fd;
	ssize_t			r;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, addr + 1, strlen(addr) - 1);
	r = sendto(fd, msg, n, 0, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(addr)));
	close(fd);
	return r == (ssize_t)n ? 0 : -1;
}

/*
 * Reports from outside the worker's process group are dropped and
 * counted, whatever they say; garbage from inside too, and a flood of it
 * leaves warden prompt and the worker's own reports counting after.
 */
START_TEST(test_spoof_garbage)
{
	struct harness	 h;
	json_t		*o, *svc, *reads, *pong;
	char		*addr, *log;
	uint64_t	 t0;
	pid_t		 r1;
	int		 i;

	start(&h, "{ " OBS_FLAGS ", 'supervisor': { 'children': ["
	    OBS_READER("r1", "garbage", "a") "] } }");
	obs_wait_read(&h, "r1", "garbage");
	r1 = pid_of(&h, "r1");
	addr = obs_report_addr(r1);
	ck_assert_msg(strncmp(addr, "@warden-report.", 15) == 0, "%s", addr);
	/* Spoofed: "observed" all, and a flag; queued before r1's next. */
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(obs_send(addr, "G=2\nR=b\n", 8), 0);
	ck_assert_int_eq(kill(r1, SIGSTOP), 0);
	o = obs_set(&h, "a", true, 100, NULL);
	obs_laggard(o, "r1", r1);
	json_decref(o);
	ck_assert_int_eq(kill(r1, SIGCONT), 0);
	o = obs_set(&h, "b", true, 5000, NULL);
	obs_complete(o, 1);
	json_decref(o);
	svc = service_of(&h, "r1");
	reads = json_object_get(svc, "reads");
	ck_assert_msg(num(reads, "dropped") == 5 && num(reads, "garbage") == 0 &&
	    json_array_size(json_object_get(reads, "flags")) == 1,
	    "%s", dump(svc));
	json_decref(svc);
	/* Garbage and a flood, from the worker itself. */
	harness_log_mark(&h);
	ck_assert_int_eq(kill(r1, SIGUSR1), 0);
	ck_assert_int_eq(harness_wait_log(&h, "r1: garbage sent", T_WAIT), 0);
	for (i = 0; i < 20; i++) {
		t0 = util_now_ms();
		pong = result(&h, "ping", NULL);
		json_decref(pong);
		ck_assert_msg(util_now_ms() - t0 < 500, "a ping took %llu ms",
		    (unsigned long long)(util_now_ms() - t0));
	}
	/* Its own reports still count (after the pause, if paused). */
	o = obs_set(&h, "c", true, 30000, NULL);
	obs_complete(o, 1);
	json_decref(o);
	svc = service_of(&h, "r1");
	reads = json_object_get(svc, "reads");
	ck_assert_msg(num(reads, "garbage") >= 4 && num(reads, "dropped") == 5,
	    "%s", dump(svc));
	json_decref(svc);
	log = harness_log(&h);
	ck_assert_msg(strstr(log, "r1: reports: garbage dropped") != NULL &&
	    count_of(log, "r1: reports: garbage dropped") == 1 &&
	    count_of(log, "r1: reports: flood") == 1, "%s", log);
	free(log);
	free(addr);
	stop(&h);
}
END_TEST

/* The table deleted while a barrier waits: repaired, re-read, complete. */
START_TEST(test_table_deleted)
{
	struct harness		 h;
	struct harness_conn	*c, *ev;
	json_t			*msg, *o, *info;
	long long		 id;
	pid_t			 r1;

	obs_start(&h, obs_conf);
	r1 = pid_of(&h, "r1");
	ck_assert_int_eq(kill(r1, SIGSTOP), 0);
	c = harness_conn_open(&h);
	ck_assert_ptr_nonnull(c);
	id = harness_conn_request(c, "flag.set", json_pack("{s:s,s:b,s:i}",
	    "name", "a", "value", 1, "wait_observed", 20000));
	obs_held(c);
	ev = subscribe(&h, "table", NULL);
	json_decref(result(&h, "table.delete", NULL));
	json_decref(wait_event(ev, "table.repaired", NULL));
	ck_assert_int_eq(kill(r1, SIGCONT), 0);
	msg = harness_read_response(c, id, T_WAIT);
	ck_assert_ptr_nonnull(msg);
	o = json_object_get(json_object_get(msg, "result"), "observed");
	obs_complete(o, 3);
	/* The repair published on from the change: no generation went back. */
	info = result(&h, "table.info", NULL);
	ck_assert_msg(num(info, "generation") > num(o, "generation"),
	    "table %s after the change's %s", dump(info), dump(o));
	json_decref(info);
	json_decref(msg);
	harness_conn_close(c);
	harness_conn_close(ev);
	stop(&h);
}
END_TEST

/*
 * A client that goes while its barrier waits: the barrier is dropped
 * (its timer too: warden answers nobody later), and warden goes on.
 */
START_TEST(test_client_gone)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*o;
	pid_t			 r1;

	obs_start(&h, obs_conf);
	r1 = pid_of(&h, "r1");
	ck_assert_int_eq(kill(r1, SIGSTOP), 0);
	c = harness_conn_open(&h);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_ne(harness_conn_request(c, "flag.set", json_pack(
	    "{s:s,s:b,s:i}", "name", "a", "value", 1, "wait_observed", 200)),
	    -1);
	obs_held(c);
	harness_conn_close(c);
	/* Its timer would have fired by the end of this barrier. */
	o = obs_set(&h, "b", true, 400, NULL);
	obs_laggard(o, "r1", r1);
	json_decref(o);
	ck_assert_int_eq(kill(r1, SIGCONT), 0);
	o = obs_set(&h, "c", true, 5000, NULL);
	obs_complete(o, 3);
	json_decref(o);
	stop(&h);
}
END_TEST

/*
 * Past limits.max_pending on its connection, a change is answered at
 * once with what is observed then, as with 0; the one waiting still
 * completes.
 */
START_TEST(test_max_pending)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*msg, *o;
	long long		 id1, id2;
	pid_t			 r1;

	start(&h, "{ " OBS_FLAGS ", 'limits': { 'max_pending': 1 },"
	    " 'supervisor': { 'children': [" OBS_READER("r1", "read", "a")
	    "] } }");
	obs_wait_read(&h, "r1", "read");
	r1 = pid_of(&h, "r1");
	ck_assert_int_eq(kill(r1, SIGSTOP), 0);
	c = harness_conn_open(&h);
	ck_assert_ptr_nonnull(c);
	id1 = harness_conn_request(c, "flag.set", json_pack("{s:s,s:b,s:i}",
	    "name", "a", "value", 1, "wait_observed", 20000));
	id2 = harness_conn_request(c, "flag.set", json_pack("{s:s,s:b,s:i}",
	    "name", "b", "value", 1, "wait_observed", 20000));
	msg = harness_read_response(c, id2, T_WAIT);
	ck_assert_ptr_nonnull(msg);
	o = json_object_get(json_object_get(msg, "result"), "observed");
	obs_laggard(o, "r1", r1);
	ck_assert_msg(num(o, "waited_ms") < 5000, "%s", dump(o));
	json_decref(msg);
	ck_assert_int_eq(kill(r1, SIGCONT), 0);
	msg = harness_read_response(c, id1, T_WAIT);
	ck_assert_ptr_nonnull(msg);
	obs_complete(json_object_get(json_object_get(msg, "result"),
	    "observed"), 1);
	json_decref(msg);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/* A reexec hands over the sockets, the readers and a barrier waiting. */
START_TEST(test_reexec)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*msg, *o;
	long long		 id;
	pid_t			 r1;

	obs_start(&h, obs_conf);
	r1 = pid_of(&h, "r1");
	ck_assert_int_eq(kill(r1, SIGSTOP), 0);
	c = harness_conn_open(&h);
	ck_assert_ptr_nonnull(c);
	id = harness_conn_request(c, "flag.set", json_pack("{s:s,s:b,s:i}",
	    "name", "a", "value", 1, "wait_observed", 20000));
	obs_held(c);
	reexec_by_signal(&h);
	ck_assert_int_eq(kill(r1, SIGCONT), 0);
	msg = harness_read_response(c, id, T_WAIT);
	ck_assert_ptr_nonnull(msg);
	o = json_object_get(json_object_get(msg, "result"), "observed");
	obs_complete(o, 3);
	json_decref(msg);
	harness_conn_close(c);
	/* New reports reach the sockets handed over. */
	o = obs_set(&h, "b", true, 5000, NULL);
	obs_complete(o, 3);
	json_decref(o);
	stop(&h);
}
END_TEST

/* flag.get and flag.list say who reads what. */
START_TEST(test_who_reads)
{
	struct harness	 h;
	json_t		*r, *f, *l;
	size_t		 i;

	obs_start(&h, obs_conf);
	r = result(&h, "flag.get", json_pack("{s:s}", "name", "a"));
	l = json_object_get(r, "readers");
	ck_assert_msg(json_is_true(json_object_get(r, "read")) &&
	    json_array_size(l) == 2 &&
	    strcmp(str(json_array_get(l, 0), "service"), "r1") == 0 &&
	    num(json_array_get(l, 0), "pid") == pid_of(&h, "r1"), "%s",
	    dump(r));
	json_decref(r);
	r = result(&h, "flag.get", json_pack("{s:s}", "name", "c"));
	ck_assert_msg(json_is_false(json_object_get(r, "read")) &&
	    json_array_size(json_object_get(r, "readers")) == 0, "%s", dump(r));
	json_decref(r);
	r = result(&h, "flag.list", NULL);
	json_array_foreach(json_object_get(r, "flags"), i, f) {
		long long	want = i == 0 ? 2 : i == 1 ? 1 : 0;

		ck_assert_msg(num(f, "readers") == want &&
		    (json_object_get(f, "unread") != NULL) == (want == 0),
		    "%s", dump(f));
	}
	json_decref(r);
	r = result(&h, "flag.list", json_pack("{s:b}", "readers", 1));
	f = json_array_get(json_object_get(r, "flags"), 1);
	ck_assert_msg(json_array_size(json_object_get(f, "readers")) == 1 &&
	    strcmp(str(json_array_get(json_object_get(f, "readers"), 0),
	    "service"), "r3") == 0, "%s", dump(r));
	json_decref(r);
	expect_error(&h, "flag.list", json_pack("{s:s}", "readers", "x"),
	    -32602, "invalid_params");
	/* Its only reader stopped: b is read by nobody now. */
	json_decref(result(&h, "service.stop", json_pack("{s:s}", "service",
	    "r3")));
	r = result(&h, "flag.list", NULL);
	f = json_array_get(json_object_get(r, "flags"), 1);
	ck_assert_msg(json_is_true(json_object_get(f, "unread")), "%s", dump(f));
	json_decref(r);
	stop(&h);
}
END_TEST

/* wardenctl: --wait-observed's line and exit status, flag list -v. */
START_TEST(test_wardenctl)
{
	struct harness	 h;
	char		*out, *err;
	pid_t		 r2;

	obs_start(&h, obs_conf);
	ck_assert_int_eq(harness_ctl(&h, &out, &err, "flag", "set", "a", "on",
	    "--wait-observed", NULL), 0);
	ck_assert_msg(strstr(out, "a: on\n") != NULL &&
	    strstr(out, "observed by 3 readers in ") != NULL, "%s", out);
	free(out);
	free(err);
	r2 = pid_of(&h, "r2");
	ck_assert_int_eq(kill(r2, SIGSTOP), 0);
	ck_assert_int_eq(harness_ctl(&h, &out, &err, "stage", "set", "2",
	    "--wait-observed=200", NULL), 7);
	ck_assert_msg(strstr(out, "not observed by 1 of 3 readers after ") !=
	    NULL && strstr(out, "  r2: pid ") != NULL, "%s", out);
	free(out);
	free(err);
	ck_assert_int_eq(kill(r2, SIGCONT), 0);
	ck_assert_int_eq(harness_ctl(&h, &out, &err, "stage", "rollback",
	    "--wait-observed", "10000", NULL), 0);
	free(out);
	free(err);
	/* Refused before anything is asked. */
	ck_assert_int_eq(harness_ctl(&h, &out, &err, "flag", "set", "a", "off",
	    "--wait-observed=soon", NULL), 2);
	ck_assert_msg(strstr(err, "--wait-observed: soon is not a number") !=
	    NULL, "%s", err);
	free(out);
	free(err);
	ck_assert_int_eq(harness_ctl(&h, &out, &err, "flag", "list", "-v",
	    NULL), 0);
	ck_assert_msg(strstr(out, "READERS") != NULL &&
	    strstr(out, "r1,r2") != NULL && strstr(out, "(unread)") != NULL,
	    "%s", out);
	free(out);
	free(err);
	stop(&h);
}
END_TEST

/* Crash service (SIGKILL) and wait for its restart number n. */
static void
obs_crash(struct harness *h, const char *service, int n)
{
	json_decref(result(h, "service.kill", json_pack("{s:s}", "service",
	    service)));
	wait_restarts(h, service, "running", n);
}

/* The guard's scope "readers": only readers of the stage's flags count. */
START_TEST(test_guard_scope)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*ev;
	int			 i;

	start(&h, "{ " OBS_FLAGS ", 'guard': { 'max_restarts': 1,"
	    " 'window_s': 600, 'scope': 'readers' },"
	    " 'supervisor': { 'max_restarts': 100, 'max_seconds': 60,"
	    " 'children': ["
	    OBS_READER("ra", "read", "a") ","
	    OBS_READER("rb", "read", "b") ","
	    " { 'name': 'other', 'command': ['@WORKER@'] } ] } }");
	obs_wait_read(&h, "ra", "read");
	obs_wait_read(&h, "rb", "read");
	c = subscribe(&h, "guard", NULL);
	json_decref(result(&h, "stage.set", json_pack("{s:i}", "stage", 1)));
	/* Stage 1 enables a: neither a worker that never reads nor b's. */
	for (i = 1; i <= 3; i++) {
		obs_crash(&h, "other", i);
		obs_crash(&h, "rb", i);
	}
	ev = result(&h, "stage.get", NULL);
	ck_assert_msg(num(ev, "stage") == 1, "rolled back: %s", dump(ev));
	json_decref(ev);
	/* a's reader: its second restart is over the limit. */
	obs_crash(&h, "ra", 1);
	obs_crash(&h, "ra", 2);
	ev = wait_event(c, "guard.rollback", NULL);
	ck_assert_msg(num(ev, "from") == 1 && num(ev, "to") == 0 &&
	    strstr(str(ev, "reason"), "2 restarts") != NULL, "%s", dump(ev));
	json_decref(ev);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

static Suite *
observe_live_suite(void)
{
	Suite	*s = suite_create("observe_live");
	TCase	*tc = tcase_create("barrier");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_barrier);
	tcase_add_test(tc, test_barrier_stages);
	tcase_add_test(tc, test_bad_wait);
	tcase_add_test(tc, test_fork);
	tcase_add_test(tc, test_spoof_garbage);
	tcase_add_test(tc, test_table_deleted);
	tcase_add_test(tc, test_reexec);
	tcase_add_test(tc, test_client_gone);
	tcase_add_test(tc, test_max_pending);
	tcase_add_test(tc, test_who_reads);
	tcase_add_test(tc, test_wardenctl);
	tcase_add_test(tc, test_guard_scope);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(observe_live_suite)
