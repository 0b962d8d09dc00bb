/*
 * check_fleet_live.c: three real wardens, members of one fleet on a real
 * etcd (tests/etcdtest.c): a stage and a flag written to etcd reach every
 * one through its durable path, each puts its report on its lease; keys
 * written by hand that a host cannot take are rejected and reported with
 * nothing applied; local writes are refused; etcd killed and restarted
 * mid-run leaves the wardens serving, says since when it is unreachable,
 * and they catch up; a host killed drops out when its lease expires; a
 * host stopped across a compaction reads the whole prefix again.
 *
 * The test writes to etcd with the daemon's own client on a loop of its
 * own (tests/etcdloop.c). Every wait is on what proves the event: warden's
 * wait method, a line of its log, an etcd watch.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcdloop.h"
#include "fleet.h"
#include "fleetlive.h"
#include "suite.h"
#include "testlib.h"
#include "util.h"

/* --- the cases ------------------------------------------------------------------------ */

/* The watch events host i has received (its status.fleet.events). */
static int64_t
live_events(int i)
{
	json_t	*f = live_fleet_status(i);
	int64_t	 n;

	ck_assert_msg(json_is_integer(json_object_get(f, "events")), "w%d: no "
	    "events in status.fleet", i + 1);
	n = json_integer_value(json_object_get(f, "events"));
	json_decref(f);
	return n;
}

/*
 * fleet.status while etcd does not answer (host i): the answer comes all
 * the same, with i's own report alone and why the others' are missing,
 * and wardenctl says so and exits 6.
 */
static void
live_status_unread(struct harness *h, const char *name)
{
	json_t	*f = harness_result(h, "fleet.status", NULL), *hosts;
	char	*out, *err;

	ck_assert_ptr_nonnull(f);
	hosts = json_object_get(f, "hosts");
	ck_assert_msg(json_array_size(hosts) == 1 && strcmp(str(json_array_get(
	    hosts, 0), "host"), name) == 0, "%s", dump(f));
	ck_assert_msg(json_is_string(json_object_get(f, "reports_error")) &&
	    strstr(str(f, "reports_error"), "could not be read") != NULL, "%s",
	    dump(f));
	ck_assert(json_is_integer(json_object_get(f, "unreachable_since")));
	json_decref(f);
	ck_assert_int_eq(harness_ctl(h, &out, &err, "fleet", "status",
	    (char *)NULL), 6);
	ck_assert_msg(strstr(out, "could not be read") != NULL, "%s", out);
	free(out);
	free(err);
}

#define LIVE_WRITES	20

/*
 * Members do not receive each other's reports: across LIVE_WRITES writes,
 * each applied and reported by every host before the next, each member's
 * watch brings one event per write, not one per write and host. A write
 * that waited on the reports first leaves no watch of them behind.
 */
START_TEST(test_members_apart)
{
	struct live_reports	 lr;
	json_t			*res;
	int64_t			 before[NHOSTS], rev, n;
	char			*fl, fields[32];
	int			 i, w;

	res = harness_result(&host[0], "fleet.flag.set", json_pack("{s:s, s:i, "
	    "s:i}", "name", "rollout", "value", 1, "wait_observed", 10000));
	ck_assert_ptr_nonnull(res);
	ck_assert(json_is_true(json_object_get(res, "observed")));
	json_decref(res);
	live_wait_all(json_pack("{s:s, s:i}", "flag", "rollout", "value", 1));
	for (i = 0; i < NHOSTS; i++)
		before[i] = live_events(i);
	for (w = 0; w < LIVE_WRITES; w++) {
		snprintf(fields, sizeof(fields), "\"value\": %d", 50 + w);
		fl = live_value(fields);
		rev = live_put(PFX "desired/flags/rollout", fl);
		free(fl);
		memset(&lr, 0, sizeof(lr));
		lr.want = rev;
		live_reports_wait(&lr, rev);
	}
	live_wait_all(json_pack("{s:s, s:i}", "flag", "rollout", "value",
	    50 + LIVE_WRITES - 1));
	for (i = 0; i < NHOSTS; i++) {
		n = live_events(i) - before[i];
		ck_assert_msg(n >= LIVE_WRITES && n <= LIVE_WRITES + NHOSTS,
		    "w%d received %lld watch events for %d writes", i + 1,
		    (long long)n, LIVE_WRITES);
	}
}
END_TEST

/*
 * A stage (with its writer's values) and a flag reach every host with the
 * writer's audit, and every host reports their revision.
 */
START_TEST(test_converge)
{
	struct live_reports	 lr;
	char			*st, *fl, *text, *out, *err;
	int64_t			 rev;
	json_t			*r, *f, *want;
	int			 i;

	st = live_value("\"stage\": 2, \"values\": {\"dark_mode\": true, "
	    "\"rollout\": 25, \"logctx\": true, \"telemetry\": true}");
	fl = live_value("\"value\": 60");
	/* A host that has applied nothing since revision 1 (no lease: stays). */
	live_put(PFX "hosts/w9", "{\"stage\": 0, \"generation\": 1, "
	    "\"revision\": 1, \"applied_at\": 1, \"future\": true}");
	live_put(PFX "hosts/bad", "[]");
	live_put(PFX "desired/stage", st);
	rev = live_put(PFX "desired/flags/rollout", fl);
	live_wait_all(json_pack("{s:i}", "stage", 2));
	live_wait_all(json_pack("{s:s, s:i}", "flag", "rollout", "value", 60));
	for (i = 0; i < NHOSTS; i++) {
		r = harness_result(&host[i], "flag.get", json_pack("{s:s}",
		    "name", "rollout"));
		ck_assert_ptr_nonnull(r);
		ck_assert_str_eq(str(json_object_get(r, "changed_by"), "host"),
		    "ctl-1");
		ck_assert_int_eq(num(json_object_get(r, "changed_by"), "uid"), 1000);
		ck_assert_str_eq(str(r, "reason"), "live");
		json_decref(r);
	}
	memset(&lr, 0, sizeof(lr));
	lr.want = rev;
	live_reports_wait(&lr, 1);
	f = live_fleet_status(0);
	ck_assert_int_ge(json_integer_value(json_object_get(f, "revision")),
	    rev);
	ck_assert(json_is_null(json_object_get(f, "unreachable_since")));
	ck_assert_str_eq(json_string_value(json_object_get(f, "host")), "w1");
	json_decref(f);
	/*
	 * Who has applied the newest change, as w1 sees the fleet: a report
	 * that cannot be read is not known to have.
	 */
	f = harness_result(&host[0], "fleet.status", NULL);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(num(f, "revision"), rev);
	want = js("{'applied': ['w1', 'w2', 'w3'], 'lagging': ['bad', 'w9']}");
	text = dump(f);
	ck_assert_msg(json_equal(json_object_get(f, "applied"),
	    json_object_get(want, "applied")) && json_equal(json_object_get(f,
	    "lagging"), json_object_get(want, "lagging")), "%s", text);
	ck_assert_uint_eq(json_array_size(json_object_get(f, "hosts")), 5);
	ck_assert_msg(strstr(text, "bad: expected a JSON object") != NULL, "%s",
	    text);
	free(text);
	json_decref(want);
	json_decref(f);
	/* wardenctl fleet status: the table, w9 behind, exit 6. */
	ck_assert_int_eq(harness_ctl(&host[0], &out, &err, "fleet", "status",
	    (char *)NULL), 6);
	ck_assert_msg(strstr(out, "newest change at revision") != NULL &&
	    strstr(out, "behind") != NULL && strstr(out, "w9") != NULL, "%s",
	    out);
	free(out);
	free(err);
	ck_assert_int_eq(harness_ctl(&host[0], &out, &err, "fleet", "stats",
	    (char *)NULL), 2);
	ck_assert_msg(strstr(err, "expected status") != NULL, "%s", err);
	free(out);
	free(err);
	free(st);
	free(fl);
}
END_TEST

/* A member's local writes are refused, naming the fleet. */
START_TEST(test_local_refused)
{
	json_t	*resp;

	resp = harness_call(&host[0], "flag.set", json_pack("{s:s, s:b}",
	    "name", "dark_mode", "value", 0));
	ck_assert_ptr_nonnull(resp);
	ck_assert_int_eq(harness_error_code(resp), -32004);
	ck_assert(strstr(json_string_value(json_object_get(json_object_get(resp,
	    "error"), "message")), "fleet member") != NULL);
	json_decref(resp);
	resp = harness_call(&host[1], "stage.set", json_pack("{s:i}", "stage",
	    1));
	ck_assert_int_eq(harness_error_code(resp), -32004);
	json_decref(resp);
	ck_assert(harness_wait(&host[0], json_pack("{s:s, s:b}", "flag",
	    "dark_mode", "value", 1), LIVE_WAIT) == 0);
}
END_TEST

/*
 * Keys written by hand that no host can take: garbage, an unknown flag, a
 * stage the hosts lack. Each is rejected and reported, nothing applied;
 * a good key after them is applied.
 */
START_TEST(test_rejected)
{
	char	*unknown = live_value("\"value\": true");
	char	*st9 = live_value("\"stage\": 9");
	char	*good = live_value("\"value\": false");
	/* A field name that would forge a log line and clear a terminal. */
	char	*forged = live_value("\"value\": true, \"x\\n2026-01-01T00:00:00"
	    ".000Z warden: forged\\u001b[2J\": 1");
	json_t	*f, *rej;
	size_t	 i;
	bool	 garbage = false, nope = false, stage = false;

	harness_log_mark(&host[0]);
	live_put(PFX "desired/flags/rollout", "{not json");
	live_put(PFX "desired/flags/nope", unknown);
	live_put(PFX "desired/flags/logctx", forged);
	live_put(PFX "desired/stage", st9);
	live_put(PFX "desired/flags/dark_mode", good);
	live_wait_all(json_pack("{s:s, s:b}", "flag", "dark_mode", "value", 0));
	ck_assert_int_eq(harness_wait_log(&host[0], "fleet: rejected: "
	    PFX "desired/stage: stage 9 is not in this host's configuration",
	    LIVE_WAIT), 0);
	ck_assert_int_eq(harness_wait_log(&host[0], "x?2026-01-01T00:00:00.000Z "
	    "warden: forged?[2J", LIVE_WAIT), 0);
	live_wait_all(json_pack("{s:s, s:i}", "flag", "rollout", "value", 25));
	live_wait_all(json_pack("{s:i}", "stage", 0));
	f = live_fleet_status(0);
	rej = json_object_get(f, "rejected");
	for (i = 0; i < json_array_size(rej); i++) {
		const char *k = json_string_value(json_object_get(
		    json_array_get(rej, i), "key"));
		const char *why = json_string_value(json_object_get(
		    json_array_get(rej, i), "reason"));

		garbage |= strcmp(k, PFX "desired/flags/rollout") == 0 &&
		    strstr(why, "not JSON") != NULL;
		nope |= strcmp(k, PFX "desired/flags/nope") == 0 &&
		    strstr(why, "not in this host's configuration") != NULL;
		stage |= strcmp(k, PFX "desired/stage") == 0;
	}
	ck_assert_msg(garbage && nope && stage, "rejected: %s",
	    json_dumps(rej, 0));
	json_decref(f);
	free(unknown);
	free(st9);
	free(good);
	free(forged);
}
END_TEST

/*
 * etcd killed mid-run: the wardens keep serving and say since when it is
 * unreachable; restarted, they catch up with what was written since.
 */
START_TEST(test_etcd_restart)
{
	char	*fl = live_value("\"value\": 80");
	json_t	*f, *r;
	int	 i;

	for (i = 0; i < NHOSTS; i++)
		harness_log_mark(&host[i]);
	etcdtest_kill(&etcd);
	for (i = 0; i < NHOSTS; i++) {
		ck_assert_int_eq(harness_wait_log(&host[i], "fleet: the watch "
		    "ended", LIVE_WAIT), 0);
		harness_log_mark(&host[i]);
		/* The retry finds no etcd: unreachable from then on. */
		ck_assert_int_eq(harness_wait_log(&host[i], "fleet: the watch "
		    "ended", LIVE_WAIT), 0);
		f = live_fleet_status(i);
		ck_assert_msg(json_is_integer(json_object_get(f,
		    "unreachable_since")), "w%d: unreachable_since not set",
		    i + 1);
		json_decref(f);
		r = harness_result(&host[i], "flag.get", json_pack("{s:s}",
		    "name", "rollout"));
		ck_assert_ptr_nonnull(r);
		json_decref(r);
	}
	live_status_unread(&host[1], "w2");
	etcdtest_restart(&etcd);
	live_put(PFX "desired/flags/rollout", fl);
	live_wait_all(json_pack("{s:s, s:i}", "flag", "rollout", "value", 80));
	for (i = 0; i < NHOSTS; i++) {
		f = live_fleet_status(i);
		ck_assert(json_is_null(json_object_get(f, "unreachable_since")));
		json_decref(f);
	}
	f = harness_result(&host[1], "fleet.status", NULL);
	ck_assert_msg(json_is_null(json_object_get(f, "reports_error")), "%s",
	    dump(f));
	json_decref(f);
	free(fl);
}
END_TEST

/* A host killed: its report goes when its lease expires. */
START_TEST(test_host_killed)
{
	struct live_reports	lr;
	int64_t			rev;
	char			*fl = live_value("\"value\": 30");

	rev = live_put(PFX "desired/flags/rollout", fl);
	memset(&lr, 0, sizeof(lr));
	lr.want = rev;
	live_reports_wait(&lr, 1);
	live_killed[2] = true;
	ck_assert_int_eq(harness_signal(&host[2], SIGKILL), 0);
	memset(&lr, 0, sizeof(lr));
	lr.want_gone = true;
	lr.gone_of = 2;
	live_reports_wait(&lr, rev);
	free(fl);
}
END_TEST

/*
 * A host stopped while etcd restarts (its watch's connection is gone), the
 * fleet moves on and etcd compacts past it: on waking its watch from the
 * last revision it applied is canceled for the compaction, it reads the
 * whole prefix and ends where the others are.
 */
START_TEST(test_compaction_resync)
{
	char	*a = live_value("\"value\": 40");
	char	*b = live_value("\"value\": 50");
	char	*on = live_value("\"value\": true");
	char	*st = live_value("\"stage\": 1, \"values\": {\"dark_mode\": "
		    "false, \"rollout\": 50, \"logctx\": true, \"telemetry\": "
		    "false}");
	int64_t	 rev;
	json_t	*j;

	ck_assert_int_eq(harness_signal(&host[1], SIGSTOP), 0);
	harness_log_mark(&host[1]);
	etcdtest_kill(&etcd);
	etcdtest_restart(&etcd);
	live_put(PFX "desired/flags/rollout", a);
	live_put(PFX "desired/flags/rollout", b);
	rev = live_put(PFX "desired/stage", st);
	j = etcdloop_call_ok(cli, "/v3/kv/compaction", etcd_req_compact(rev));
	json_decref(j);
	ck_assert_int_eq(harness_signal(&host[1], SIGCONT), 0);
	ck_assert_int_eq(harness_wait_log(&host[1], "was compacted", LIVE_WAIT),
	    0);
	ck_assert_int_eq(harness_wait_log(&host[1], "fleet: resync at revision",
	    LIVE_WAIT), 0);
	live_put(PFX "desired/flags/dark_mode", on);
	live_wait_all(json_pack("{s:i}", "stage", 1));
	live_wait_all(json_pack("{s:s, s:b}", "flag", "dark_mode", "value", 1));
	live_wait_all(json_pack("{s:s, s:i}", "flag", "rollout", "value", 50));
	live_wait_all(json_pack("{s:s, s:b}", "flag", "telemetry", "value", 0));
	free(a);
	free(b);
	free(on);
	free(st);
}
END_TEST

/*
 * The guard's rollback on a member: applied locally (its workers fail
 * after the fleet raised the stage) and reported in its report's guard.
 */
START_TEST(test_guard_reported)
{
	struct live_reports	 lr;
	char			*st = live_value("\"stage\": 1");
	int64_t			 rev;
	pid_t			 pid;
	int			 i;

	rev = live_put(PFX "desired/stage", st);
	live_wait_all(json_pack("{s:i}", "stage", 1));
	for (i = 1; i <= 3; i++) {
		pid = harness_pid_of(&host[0], "w");
		ck_assert(pid > 0);
		ck_assert_int_eq(kill(pid, SIGUSR1), 0);
		ck_assert(harness_wait(&host[0], json_pack("{s:s, s:s, s:i}",
		    "service", "w", "state", "running", "min_restarts", i),
		    LIVE_WAIT) == 0);
	}
	ck_assert(harness_wait(&host[0], json_pack("{s:i}", "stage", 0),
	    LIVE_WAIT) == 0);
	memset(&lr, 0, sizeof(lr));
	lr.only = 1;
	lr.want_guard = true;
	live_reports_wait(&lr, rev);
	/* The others keep the fleet's stage. */
	ck_assert(harness_wait(&host[1], json_pack("{s:i}", "stage", 1),
	    LIVE_WAIT) == 0);
	free(st);
}
END_TEST

/* A lease revoked under a host: it takes a new one and reports again. */
START_TEST(test_lease_lost)
{
	struct live_reports	 lr;
	struct etcd_range	 r;
	json_t			*j, *f;
	int64_t			 lease, rev;
	char			 err[ETCD_ERR_MAX];

	r = etcdloop_range(cli, PFX "hosts/w1", NULL);
	ck_assert_uint_eq(r.n, 1);
	lease = r.kvs[0].lease;
	ck_assert(lease != 0);
	etcd_range_free(&r);
	j = etcdloop_call_ok(cli, "/v3/lease/revoke",
	    etcd_req_lease_revoke(lease));
	ck_assert_int_eq(etcd_parse_header(j, &rev, err), 0);
	json_decref(j);
	memset(&lr, 0, sizeof(lr));
	lr.only = 1;
	live_reports_wait(&lr, rev + 1);
	f = live_fleet_status(0);
	ck_assert(json_integer_value(json_object_get(f, "lease")) != lease);
	json_decref(f);
}
END_TEST

/*
 * A reexec hands the membership over: the same lease; the prefix read
 * again changes nothing; still applying, and fleet.status sees every host.
 */
START_TEST(test_reexec)
{
	char	*fl = live_value("\"value\": 70");
	json_t	*f;
	int64_t	 lease;

	f = live_fleet_status(0);
	lease = json_integer_value(json_object_get(f, "lease"));
	json_decref(f);
	reexec_by_signal(&host[0]);
	/* Before any change: the state is the prefix's, so it takes none. */
	ck_assert_int_eq(harness_wait_log(&host[0], "fleet: resync at revision",
	    LIVE_WAIT), 0);
	ck_assert_int_eq(harness_wait_log(&host[0], "keys, 0 changes, 0 "
	    "rejected", LIVE_WAIT), 0);
	live_put(PFX "desired/flags/rollout", fl);
	live_wait_all(json_pack("{s:s, s:i}", "flag", "rollout", "value", 70));
	f = live_fleet_status(0);
	ck_assert_int_eq(json_integer_value(json_object_get(f, "lease")), lease);
	json_decref(f);
	f = harness_result(&host[0], "fleet.status", NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(f, "hosts")), 3);
	json_decref(f);
	free(fl);
}
END_TEST

/*
 * A reload that changes the fleet starts its client again, on the new
 * prefix; the workers are not touched. One that does not keeps it.
 */
START_TEST(test_reload)
{
	char	*conf, *fl = live_value("\"value\": 90"), *p;
	pid_t	 pid = harness_pid_of(&host[0], "w");
	json_t	*f, *r;

	conf = cfg(LIVE_CONF, etcd.url, 1);
	p = strstr(conf, "\"lease_s\"");
	ck_assert_ptr_nonnull(p);
	conf = xreallocarray(conf, strlen(conf) + 64, 1);
	p = strstr(conf, "\"lease_s\"");
	memmove(p + 25, p, strlen(p) + 1);
	memcpy(p, "\"prefix\": \"/elsewhere/\", ", 25);
	ck_assert_int_eq(harness_write_config(&host[0], conf), 0);
	harness_log_mark(&host[0]);
	r = harness_result(&host[0], "config.reload", NULL);
	ck_assert_ptr_nonnull(r);
	json_decref(r);
	ck_assert_int_eq(harness_wait_log(&host[0], "fleet: the settings "
	    "changed", LIVE_WAIT), 0);
	etcdloop_put(cli, "/elsewhere/desired/flags/rollout", fl, 0);
	ck_assert(harness_wait(&host[0], json_pack("{s:s, s:i}", "flag",
	    "rollout", "value", 90), LIVE_WAIT) == 0);
	f = live_fleet_status(0);
	ck_assert_str_eq(str(f, "prefix"), "/elsewhere/");
	json_decref(f);
	ck_assert_int_eq(harness_pid_of(&host[0], "w"), pid);
	/* The same settings again: nothing restarts. */
	harness_log_mark(&host[0]);
	r = harness_result(&host[0], "config.reload", NULL);
	json_decref(r);
	r = harness_result(&host[0], "ping", NULL);
	json_decref(r);
	p = harness_log(&host[0]);
	ck_assert_ptr_null(strstr(p + host[0].log_mark, "settings changed"));
	free(p);
	free(conf);
	free(fl);
}
END_TEST

/* A listening loopback socket on a free port; its URL in url. */
static int
live_listener(char url[64])
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 64), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(url, 64, "http://127.0.0.1:%d", ntohs(sin.sin_port));
	return fd;
}

/*
 * A child that answers every request on fd with HTTP 500, as an etcd
 * behind a failing proxy would. It stays in the test's process group,
 * which Check kills with the test.
 */
static pid_t
live_http500(int fd)
{
	static const char ans[] = "HTTP/1.1 500 Internal Server Error\r\n"
	    "Content-Type: text/plain\r\nContent-Length: 5\r\n"
	    "Connection: close\r\n\r\noops\n";
	char	buf[4096];
	pid_t	pid;
	int	c;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid > 0)
		return pid;
	for (;;) {
		if ((c = accept(fd, NULL, NULL)) == -1)
			continue;
		/* The request's head and body fit one read or two: enough. */
		(void)read(c, buf, sizeof(buf));
		(void)write(c, ans, sizeof(ans) - 1);
		close(c);
	}
}

/*
 * An etcd that never answers, and one that answers HTTP 500: warden
 * starts all the same, serves its state, and says since when the fleet is
 * unreachable.
 */
START_TEST(test_etcd_broken)
{
	struct harness	 h;
	char		*conf, url[64];
	json_t		*f, *r;
	pid_t		 server = -1;
	int		 fd;

	fd = live_listener(url);
	if (_i == 1)
		server = live_http500(fd);
	conf = cfg(LIVE_CONF, url, 1);
	ck_assert_int_eq(harness_start(&h, conf), 0);
	ck_assert_int_eq(harness_wait_log(&h, "fleet: no lease granted: etcd "
	    "at http://127.0.0.1", LIVE_WAIT), 0);
	if (_i == 1)
		ck_assert_int_eq(harness_wait_log(&h, "HTTP 500", LIVE_WAIT), 0);
	r = harness_result(&h, "flag.get", json_pack("{s:s}", "name",
	    "rollout"));
	ck_assert_int_eq(num(r, "value"), 25);
	json_decref(r);
	r = harness_result(&h, "status", NULL);
	f = json_object_get(r, "fleet");
	ck_assert(json_is_integer(json_object_get(f, "unreachable_since")));
	ck_assert(json_is_null(json_object_get(f, "lease")));
	ck_assert(json_is_false(json_object_get(f, "watching")));
	json_decref(r);
	live_status_unread(&h, "w1");
	/* A fleet write is answered unavailable, naming etcd; nothing changes. */
	r = harness_call(&h, "fleet.flag.set", json_pack("{s:s, s:i}", "name",
	    "rollout", "value", 60));
	ck_assert_msg(harness_error_code(r) == -32005 && strstr(str(
	    json_object_get(r, "error"), "message"), "etcd at http://127.0.0.1")
	    != NULL, "%s", dump(r));
	json_decref(r);
	r = harness_result(&h, "flag.get", json_pack("{s:s}", "name",
	    "rollout"));
	ck_assert_int_eq(num(r, "value"), 25);
	json_decref(r);
	ck_assert_int_eq(harness_stop(&h), 0);
	harness_cleanup(&h);
	if (server > 0) {
		ck_assert_int_eq(kill(server, SIGKILL), 0);
		ck_assert_int_eq(waitpid(server, NULL, 0), server);
	}
	close(fd);
	free(conf);
}
END_TEST

/*
 * Fleet writes through a member: a stage (its value carrying every flag's
 * value after it) and a flag reach every host with the writer's audit;
 * what the local op would refuse is refused the same way, nothing written;
 * a flag's reset record, and its key deleted by hand, reset it everywhere.
 */
START_TEST(test_fleet_write)
{
	struct etcd_range	 r;
	json_t			*res, *v;
	char			 err[FLEET_ERR_MAX];
	struct fleet_stage	 st;
	char			*roll, *fl;
	int			 i;

	res = harness_result(&host[0], "fleet.stage.set", json_pack("{s:i, s:s}",
	    "stage", 2, "reason", "wave 2"));
	ck_assert_ptr_nonnull(res);
	ck_assert_str_eq(str(res, "key"), PFX "desired/stage");
	ck_assert_int_gt(num(res, "revision"), 0);
	json_decref(res);
	live_wait_all(json_pack("{s:i}", "stage", 2));
	r = etcdloop_range(cli, PFX "desired/stage", NULL);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_int_eq(fleet_stage_decode("stage", r.kvs[0].value.p,
	    r.kvs[0].value.len, &st, err, sizeof(err)), 0);
	ck_assert_str_eq(st.by.host, "w1");
	ck_assert_str_eq(st.by.reason, "wave 2");
	ck_assert(json_is_true(json_object_get(st.values, "telemetry")));
	fleet_stage_clear(&st);
	etcd_range_free(&r);
	res = harness_result(&host[1], "fleet.flag.set", json_pack("{s:s, s:i}",
	    "name", "rollout", "value", 70));
	ck_assert_ptr_nonnull(res);
	json_decref(res);
	live_wait_all(json_pack("{s:s, s:i}", "flag", "rollout", "value", 70));
	for (i = 0; i < NHOSTS; i++) {
		res = harness_result(&host[i], "flag.get", json_pack("{s:s}",
		    "name", "rollout"));
		ck_assert_str_eq(str(json_object_get(res, "changed_by"),
		    "host"), "w2");
		json_decref(res);
	}
	/* Refused as the local op would be; nothing written. */
	res = harness_call(&host[0], "fleet.stage.set", json_pack("{s:i}",
	    "stage", 1));
	ck_assert_int_eq(harness_error_code(res), -32004);
	json_decref(res);
	res = harness_call(&host[0], "fleet.flag.set", json_pack("{s:s, s:b}",
	    "name", "nope", "value", 1));
	ck_assert_int_eq(harness_error_code(res), -32001);
	json_decref(res);
	res = harness_call(&host[0], "fleet.flag.reset", NULL);
	ck_assert_msg(harness_error_code(res) == -32602 && strstr(str(
	    json_object_get(res, "error"), "message"), "name required (every "
	    "flag to its default, and stage 0: fleet.stage.emergency)") !=
	    NULL, "%s", dump(res));
	json_decref(res);
	r = etcdloop_range(cli, PFX "desired/flags/nope", NULL);
	ck_assert_uint_eq(r.n, 0);
	etcd_range_free(&r);
	/* A reset puts its record: every host back to the default. */
	res = harness_result(&host[2], "fleet.flag.reset", json_pack("{s:s}",
	    "name", "rollout"));
	ck_assert_ptr_nonnull(res);
	json_decref(res);
	live_wait_all(json_pack("{s:s, s:i}", "flag", "rollout", "value", 25));
	/* The key deleted by hand is a reset as well. */
	roll = fleet_key_flag(PFX, "rollout");
	fl = live_value("\"value\": 80");
	live_put(roll, fl);
	live_wait_all(json_pack("{s:s, s:i}", "flag", "rollout", "value", 80));
	json_decref(etcdloop_call_ok(cli, "/v3/kv/deleterange",
	    etcd_req_delete(roll, NULL)));
	live_wait_all(json_pack("{s:s, s:i}", "flag", "rollout", "value", 25));
	free(fl);
	free(roll);
	v = harness_result(&host[0], "fleet.stage.emergency", json_pack("{s:s}",
	    "reason", "pager"));
	ck_assert_ptr_nonnull(v);
	json_decref(v);
	live_wait_all(json_pack("{s:i}", "stage", 0));
}
END_TEST

/*
 * wait_observed: answered once every live host reports the write's
 * revision; a host stopped is named at the bound.
 */
START_TEST(test_wait_observed)
{
	json_t	*res, *want = js("{'all': ['w1', 'w2', 'w3'], 'w3': ['w3']}");

	res = harness_result(&host[0], "fleet.flag.set", json_pack("{s:s, s:i, "
	    "s:i}", "name", "rollout", "value", 45, "wait_observed", 10000));
	ck_assert_ptr_nonnull(res);
	ck_assert(json_is_true(json_object_get(res, "observed")));
	ck_assert(json_equal(json_object_get(res, "applied"),
	    json_object_get(want, "all")));
	json_decref(res);
	ck_assert_int_eq(harness_signal(&host[2], SIGSTOP), 0);
	res = harness_result(&host[0], "fleet.flag.set", json_pack("{s:s, s:i, "
	    "s:i}", "name", "rollout", "value", 46, "wait_observed", 500));
	ck_assert_ptr_nonnull(res);
	ck_assert(json_is_false(json_object_get(res, "observed")));
	ck_assert(json_equal(json_object_get(res, "lagging"),
	    json_object_get(want, "w3")));
	json_decref(res);
	ck_assert_int_eq(harness_signal(&host[2], SIGCONT), 0);
	res = harness_call(&host[0], "fleet.flag.set", json_pack("{s:s, s:i, "
	    "s:i}", "name", "rollout", "value", 47, "wait_observed", -1));
	ck_assert_int_eq(harness_error_code(res), -32602);
	json_decref(res);
	json_decref(want);
}
END_TEST

/*
 * A report under hosts/ that is no report (written by hand) is listed with
 * why, and counts as a host that has not applied: fleet status exits 6,
 * and a write waiting on every live host names it at the deadline.
 */
START_TEST(test_garbage_report)
{
	json_t	*res, *h, *want = js("['zz']");
	char	*out, *err;
	size_t	 i;
	int	 rc;
	bool	 listed = false;

	live_put(PFX "hosts/zz", "{not a report");
	res = harness_result(&host[0], "fleet.status", NULL);
	json_array_foreach(json_object_get(res, "hosts"), i, h)
		listed |= strcmp(str(h, "host"), "zz") == 0 && strstr(str(h,
		    "error"), "not JSON") != NULL;
	ck_assert_msg(listed && json_equal(json_object_get(res, "lagging"),
	    want), "%s", dump(res));
	json_decref(res);
	rc = harness_ctl(&host[0], &out, &err, "fleet", "status", (char *)NULL);
	ck_assert_msg(rc == 6 && strstr(out, "zz") != NULL, "exit %d: %s%s", rc,
	    out, err);
	free(out);
	free(err);
	res = harness_result(&host[0], "fleet.flag.set", json_pack("{s:s, s:i, "
	    "s:i}", "name", "rollout", "value", 30, "wait_observed", 300));
	ck_assert_msg(json_is_false(json_object_get(res, "observed")) &&
	    json_equal(json_object_get(res, "lagging"), want) &&
	    json_array_size(json_object_get(res, "applied")) == NHOSTS, "%s",
	    dump(res));
	json_decref(res);
	json_decref(want);
}
END_TEST

/* --- the hosts' readers ------------------------------------------------------------ */

static void
readers_setup(void)
{
	int	i;

	live_readers = true;
	live_setup();
	/* Each host's reader has read (and so reported) once. */
	for (i = 0; i < NHOSTS; i++)
		ck_assert_int_eq(harness_wait_log(&host[i], "r: read pid ",
		    LIVE_WAIT), 0);
}

static void
readers_teardown(void)
{
	live_teardown();
	live_readers = false;
}

/* A fleet flag.set of logctx on w1, waiting at most ms: its result. */
static json_t *
readers_set(bool on, int ms)
{
	json_t	*res = harness_result(&host[0], "fleet.flag.set", json_pack(
	    "{s:s, s:b, s:i}", "name", "logctx", "value", on, "wait_observed",
	    ms));

	ck_assert_ptr_nonnull(res);
	return res;
}

/*
 * wait_observed waits for the workers too: a host that has applied a
 * write, but whose reader has not read since, is named "unseen" at the
 * deadline; once the reader reads again, the host's report says so.
 */
START_TEST(test_readers_observed)
{
	struct live_reports	 lr;
	json_t			*res, *r2, *f;
	char			*out, *err;
	pid_t			 reader;
	int			 rc;

	res = readers_set(true, 10000);
	ck_assert_msg(json_is_true(json_object_get(res, "observed")) &&
	    json_array_size(json_object_get(res, "applied")) == NHOSTS &&
	    json_array_size(json_object_get(res, "unseen")) == 0, "%s",
	    dump(res));
	json_decref(res);
	reader = harness_pid_of(&host[1], "r");
	ck_assert_int_gt(reader, 0);
	ck_assert_int_eq(kill(reader, SIGSTOP), 0);
	res = readers_set(false, 1000);
	r2 = js("['w2']");
	ck_assert_msg(json_is_false(json_object_get(res, "observed")) &&
	    json_array_size(json_object_get(res, "lagging")) == 0 &&
	    json_array_size(json_object_get(res, "applied")) == NHOSTS &&
	    json_equal(json_object_get(res, "unseen"), r2), "%s", dump(res));
	json_decref(r2);
	/* wardenctl says it: LAG "unread", and the host named at the deadline. */
	rc = harness_ctl(&host[0], &out, &err, "fleet", "status", (char *)NULL);
	ck_assert_msg(rc == 0 && strstr(out, "unread") != NULL, "exit %d: %s%s",
	    rc, out, err);
	free(out);
	free(err);
	rc = harness_ctl(&host[0], &out, &err, "fleet", "flag", "set", "logctx",
	    "on", "--wait-observed=500", (char *)NULL);
	ck_assert_msg(rc == 7 && strstr(out, "applied by w2, not yet seen by "
	    "all its readers") != NULL, "exit %d: %s%s", rc, out, err);
	free(out);
	free(err);
	json_decref(res);
	res = readers_set(true, 0);
	ck_assert_int_eq(kill(reader, SIGCONT), 0);
	memset(&lr, 0, sizeof(lr));
	lr.want = num(res, "revision");
	lr.want_observed = true;
	lr.only = 2;
	live_reports_wait(&lr, 1);
	f = live_fleet_status(1);
	ck_assert_int_ge(num(f, "observed"), num(res, "revision"));
	json_decref(f);
	json_decref(res);
}
END_TEST

static Suite *
fleet_live_suite(void)
{
	Suite	*s = suite_create("fleet_live");
	TCase	*tc = tcase_create("fleet_live");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, live_setup, live_teardown);
	tcase_add_test(tc, test_converge);
	tcase_add_test(tc, test_local_refused);
	tcase_add_test(tc, test_rejected);
	tcase_add_test(tc, test_etcd_restart);
	tcase_add_test(tc, test_host_killed);
	tcase_add_test(tc, test_compaction_resync);
	tcase_add_test(tc, test_guard_reported);
	tcase_add_test(tc, test_lease_lost);
	tcase_add_test(tc, test_reexec);
	tcase_add_test(tc, test_reload);
	tcase_add_test(tc, test_fleet_write);
	tcase_add_test(tc, test_wait_observed);
	tcase_add_test(tc, test_members_apart);
	tcase_add_test(tc, test_garbage_report);
	suite_add_tcase(s, tc);
	tc = tcase_create("fleet_readers");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, readers_setup, readers_teardown);
	tcase_add_test(tc, test_readers_observed);
	suite_add_tcase(s, tc);
	tc = tcase_create("fleet_no_etcd");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_etcd_broken, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(fleet_live_suite)
