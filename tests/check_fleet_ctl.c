/*
 * check_fleet_ctl.c: wardenctl fleet against three real wardens on a real
 * etcd (fleetlive.h): a stage and a flag written through one member reach
 * every one, --wait-observed answering once they have (or naming the one
 * that has not, exit 7); status's table and exit; usage errors change
 * nothing. Two writers meet in an order the test chooses (etcdproxy.h):
 * a write whose value depends on what it read conflicts with any change
 * of it made meanwhile, one that does not goes through.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcdloop.h"
#include "etcdproxy.h"
#include "fleet.h"
#include "fleetlive.h"
#include "protocol.h"
#include "suite.h"
#include "testlib.h"
#include "util.h"

/* wardenctl on host i: its exit status; out and err kept for messages. */
static int
ctl_on(int i, char **out, char **err, const char *a1, const char *a2,
    const char *a3, const char *a4, const char *a5, const char *a6)
{
	return harness_ctl(&host[i], out, err, "fleet", a1, a2, a3, a4, a5, a6,
	    (char *)NULL);
}

START_TEST(test_ctl_writes)
{
	char	*out, *err;
	json_t	*r;
	int	 rc;

	rc = ctl_on(0, &out, &err, "stage", "set", "2", "-m", "wave 2",
	    "--wait-observed=10000");
	ck_assert_msg(rc == 0, "exit %d: %s%s", rc, out, err);
	ck_assert_msg(strstr(out, "written /warden/desired/stage at revision") != NULL &&
	    strstr(out, "applied by every live host (3)") != NULL, "%s", out);
	free(out);
	free(err);
	live_wait_all(json_pack("{s:i}", "stage", 2));
	rc = ctl_on(1, &out, &err, "flag", "set", "rollout", "60%",
	    "--wait-observed", NULL);
	ck_assert_msg(rc == 0, "exit %d: %s%s", rc, out, err);
	free(out);
	free(err);
	live_wait_all(json_pack("{s:s, s:i}", "flag", "rollout", "value", 60));
	r = harness_result(&host[2], "flag.get", json_pack("{s:s}", "name",
	    "rollout"));
	ck_assert_str_eq(str(json_object_get(r, "changed_by"), "host"), "w2");
	json_decref(r);
	rc = ctl_on(2, &out, &err, "flag", "reset", "rollout", NULL, NULL,
	    NULL);
	ck_assert_msg(rc == 0, "exit %d: %s%s", rc, out, err);
	free(out);
	free(err);
	live_wait_all(json_pack("{s:s, s:i}", "flag", "rollout", "value", 25));
	/* The local op's refusal: a stage not above the fleet's. */
	rc = ctl_on(0, &out, &err, "stage", "set", "1", NULL, NULL, NULL);
	ck_assert_msg(rc == 1 && strstr(err, "stage") != NULL, "exit %d: %s",
	    rc, err);
	free(out);
	free(err);
	rc = ctl_on(0, &out, &err, "stage", "rollback", "1", "-m", "back",
	    NULL);
	ck_assert_msg(rc == 0, "exit %d: %s%s", rc, out, err);
	free(out);
	free(err);
	live_wait_all(json_pack("{s:i}", "stage", 1));
}
END_TEST

/* A host stopped: --wait-observed names it at the bound, exit 7. */
START_TEST(test_ctl_not_observed)
{
	char	*out, *err;
	int	 rc;

	ck_assert_int_eq(harness_signal(&host[2], SIGSTOP), 0);
	rc = ctl_on(0, &out, &err, "stage", "emergency", "-m", "pager",
	    "--wait-observed=300", NULL);
	ck_assert_msg(rc == 7 && strstr(out, "not applied by w3") != NULL,
	    "exit %d: %s%s", rc, out, err);
	free(out);
	free(err);
	rc = ctl_on(0, &out, &err, "status", NULL, NULL, NULL, NULL, NULL);
	ck_assert_msg(rc == 6 && strstr(out, "behind") != NULL, "exit %d: %s%s",
	    rc, out, err);
	free(out);
	free(err);
	ck_assert_int_eq(harness_signal(&host[2], SIGCONT), 0);
	live_wait_all(json_pack("{s:i}", "stage", 0));
}
END_TEST

/* Usage errors: exit 2, nothing written. */
START_TEST(test_ctl_usage)
{
	static const char *const bad[][4] = {
		{ "stage", "up", NULL, NULL },
		{ "stage", "set", "x", NULL },
		{ "stage", "emergency", "now", NULL },
		{ "flag", "set", "rollout", "101" },
		{ "flag", "get", "rollout", NULL },
		{ "nodes", NULL, NULL, NULL },
	};
	struct etcd_range	 r;
	char			*out, *err;
	size_t			 i;
	int			 rc;

	for (i = 0; i < nitems(bad); i++) {
		rc = ctl_on(0, &out, &err, bad[i][0], bad[i][1], bad[i][2],
		    bad[i][3], NULL, NULL);
		ck_assert_msg(rc == 2, "%s %s: exit %d: %s", bad[i][0],
		    bad[i][1] != NULL ? bad[i][1] : "", rc, err);
		free(out);
		free(err);
	}
	r = etcdloop_range(cli, PFX "desired/flags/rollout", NULL);
	ck_assert_uint_eq(r.n, 0);
	etcd_range_free(&r);
	r = etcdloop_range(cli, PFX "desired/stage", NULL);
	ck_assert_uint_eq(r.n, 0);
	etcd_range_free(&r);
}
END_TEST

/* --- two writers, in the order the test chooses ------------------------------------ */

/*
 * w2 (host[1]) reaches etcd through the proxy, the others straight: its
 * write reads the prefix, its transaction is held, another host writes,
 * and the transaction goes on, compared with what w2 read before.
 */
#define VIA	1

static struct etcdproxy	*proxy;

static void
conflict_setup(void)
{
	live_setup_etcd();
	proxy = etcdproxy_start(etcd.client_port);
	live_endpoint[VIA] = etcdproxy_url(proxy);
	live_setup_hosts();
}

static void
conflict_teardown(void)
{
	live_teardown();
	etcdproxy_stop(proxy);
	proxy = NULL;
	live_endpoint[VIA] = NULL;
}

/* A fleet write on host i that must succeed. */
static void
conflict_write(int i, const char *method, json_t *params)
{
	json_t	*r = harness_result(&host[i], method, params);

	ck_assert_msg(r != NULL, "w%d: %s failed", i + 1, method);
	json_decref(r);
}

/*
 * w2's write (method, params stolen) held at its transaction while w1
 * makes its own (a_method, a_params stolen), then released: w2's answer
 * (free it).
 */
static json_t *
conflict_race(const char *method, json_t *params, const char *a_method,
    json_t *a_params)
{
	struct harness_conn	*c = harness_conn_open(&host[VIA]);
	json_t			*ans;
	long long		 id;
	int			 held = etcdproxy_held_count(proxy);

	ck_assert_ptr_nonnull(c);
	etcdproxy_arm(proxy);
	id = harness_conn_request(c, method, params);
	ck_assert_int_ge(id, 0);
	etcdproxy_wait_held(proxy, LIVE_WAIT);
	ck_assert_int_eq(etcdproxy_held_count(proxy), held + 1);
	conflict_write(0, a_method, a_params);
	etcdproxy_release(proxy);
	ans = harness_read_response(c, id, LIVE_WAIT);
	ck_assert_msg(ans != NULL, "w2 did not answer %s", method);
	harness_conn_close(c);
	return ans;
}

/* ans is the compare's conflict, naming key and the revision read. */
static void
conflict_expect(json_t *ans, const char *key)
{
	json_t		*e = json_object_get(ans, "error");
	const char	*msg;
	char		 want[256];

	ck_assert_msg(e != NULL, "no conflict: %s", dump(ans));
	ck_assert_int_eq(num(e, "code"), RPC_CONFLICT);
	msg = str(e, "message");
	snprintf(want, sizeof(want), "%s", key);
	ck_assert_msg(strstr(msg, want) != NULL &&
	    strstr(msg, "changed since revision") != NULL, "%s", msg);
	json_decref(ans);
}

/* (a) The same key: w2's stage after w1's conflicts; stage 2 everywhere. */
START_TEST(test_conflict_same_key)
{
	char	*stage = fleet_key_stage(PFX);

	conflict_expect(conflict_race("fleet.stage.set", json_pack("{s:i}",
	    "stage", 1), "fleet.stage.set", json_pack("{s:i}", "stage", 2)),
	    stage);
	live_wait_all(json_pack("{s:i}", "stage", 2));
	free(stage);
}
END_TEST

/*
 * (b) A stage carries every flag's value as its writer read them: w1's
 * flag set between w2's read and w2's transaction must make w2's stage a
 * conflict, else every host would put the flag back to what w2 read and
 * w1's acknowledged write would be lost.
 */
START_TEST(test_conflict_stage_after_flag)
{
	char	*stage = fleet_key_stage(PFX);

	conflict_expect(conflict_race("fleet.stage.set", json_pack("{s:i}",
	    "stage", 1), "fleet.flag.set", json_pack("{s:s, s:i}", "name",
	    "rollout", "value", 60)), stage);
	live_wait_all(json_pack("{s:s, s:i}", "flag", "rollout", "value", 60));
	live_wait_all(json_pack("{s:i}", "stage", 0));
	free(stage);
}
END_TEST

/*
 * (c) The same with a reset, which is a put of a reset record (a deleted
 * key would leave nothing for the compare to see): w2's stage, carrying
 * the flag's old value, conflicts, and the flag stays reset everywhere.
 */
START_TEST(test_conflict_stage_after_reset)
{
	struct etcd_range	 r;
	struct fleet_flag	 f;
	char			*stage = fleet_key_stage(PFX);
	char			*roll = fleet_key_flag(PFX, "rollout");
	char			 err[FLEET_ERR_MAX];

	conflict_write(0, "fleet.flag.set", json_pack("{s:s, s:i}", "name",
	    "rollout", "value", 60));
	live_wait_all(json_pack("{s:s, s:i}", "flag", "rollout", "value", 60));
	conflict_expect(conflict_race("fleet.stage.set", json_pack("{s:i}",
	    "stage", 1), "fleet.flag.reset", json_pack("{s:s, s:s}", "name",
	    "rollout", "reason", "back")), stage);
	live_wait_all(json_pack("{s:s, s:i}", "flag", "rollout", "value", 25));
	live_wait_all(json_pack("{s:i}", "stage", 0));
	/* The reset is in etcd, with who made it and why. */
	r = etcdloop_range(cli, roll, NULL);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_msg(fleet_flag_decode(roll, r.kvs[0].value.p,
	    r.kvs[0].value.len, &f, err, sizeof(err)) == 0, "%s", err);
	ck_assert(f.reset);
	ck_assert_str_eq(f.by.host, "w1");
	ck_assert_str_eq(f.by.reason, "back");
	fleet_audit_clear(&f.by);
	etcd_range_free(&r);
	free(stage);
	free(roll);
}
END_TEST

/*
 * (d) Flags on different keys: a flag's value does not depend on the
 * other keys, so w2's flag set after w1's set of another flag succeeds,
 * and every host has both.
 */
START_TEST(test_conflict_other_flags)
{
	json_t	*ans;

	ans = conflict_race("fleet.flag.set", json_pack("{s:s, s:i}", "name",
	    "rollout", "value", 60), "fleet.flag.set", json_pack("{s:s, s:b}",
	    "name", "dark_mode", "value", 0));
	ck_assert_msg(json_object_get(ans, "result") != NULL, "%s", dump(ans));
	json_decref(ans);
	live_wait_all(json_pack("{s:s, s:i}", "flag", "rollout", "value", 60));
	live_wait_all(json_pack("{s:s, s:b}", "flag", "dark_mode", "value", 0));
}
END_TEST

static Suite *
fleet_ctl_suite(void)
{
	Suite	*s = suite_create("fleet_ctl");
	TCase	*tc = tcase_create("fleet_ctl");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, live_setup, live_teardown);
	tcase_add_test(tc, test_ctl_writes);
	tcase_add_test(tc, test_ctl_not_observed);
	tcase_add_test(tc, test_ctl_usage);
	suite_add_tcase(s, tc);
	tc = tcase_create("conflict");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, conflict_setup, conflict_teardown);
	tcase_add_test(tc, test_conflict_same_key);
	tcase_add_test(tc, test_conflict_stage_after_flag);
	tcase_add_test(tc, test_conflict_stage_after_reset);
	tcase_add_test(tc, test_conflict_other_flags);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(fleet_ctl_suite)
