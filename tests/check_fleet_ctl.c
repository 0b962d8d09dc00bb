/*
 * check_fleet_ctl.c: wardenctl fleet against three real wardens on a real
 * etcd (fleetlive.h): a stage and a flag written through one member reach
 * every one, --wait-observed answering once they have (or naming the one
 * that has not, exit 7); status's table and exit; usage errors change
 * nothing.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcdloop.h"
#include "fleetlive.h"
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

/*
 * Two writes of one key at once: a batch's two calls read the prefix in
 * the same turn (etcd answers a read at once while a write waits for its
 * log's sync), so both usually compare the key's revision as it was: one
 * transaction wins, the other is a conflict naming the value now. When the
 * second read comes after the first write (a slow, sanitized build), the
 * second is refused before its transaction, this host not having applied
 * the first yet: a conflict as well. Either way one wins, and every host
 * has the winner's value.
 */
START_TEST(test_conflict)
{
	static const char batch[] = "[{\"jsonrpc\": \"2.0\", \"id\": 1, "
	    "\"method\": \"fleet.flag.set\", \"params\": {\"name\": "
	    "\"rollout\", \"value\": 10}}, {\"jsonrpc\": \"2.0\", \"id\": 2, "
	    "\"method\": \"fleet.flag.set\", \"params\": {\"name\": "
	    "\"rollout\", \"value\": 20}}]\n";
	struct harness_conn	*c = harness_conn_open(&host[0]);
	json_t			*ans, *e, *ok = NULL;
	const char		*msg;
	size_t			 i;
	int			 conflicts = 0;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(harness_conn_send_raw(c, batch, strlen(batch)), 0);
	ans = harness_read_line(c, 15000);
	ck_assert_msg(json_is_array(ans) && json_array_size(ans) == 2, "%s",
	    dump(ans));
	json_array_foreach(ans, i, e) {
		if (json_object_get(e, "result") != NULL) {
			ok = e;
			continue;
		}
		ck_assert_int_eq(num(json_object_get(e, "error"), "code"),
		    -32004);
		msg = str(json_object_get(e, "error"), "message");
		ck_assert_msg((strstr(msg, "/warden/desired/flags/rollout changed since "
		    "revision") != NULL && strstr(msg, "\"value\":") != NULL) ||
		    strstr(msg, "this host has not applied revision") != NULL,
		    "%s", msg);
		conflicts++;
	}
	ck_assert_msg(conflicts == 1 && ok != NULL, "%s", dump(ans));
	live_wait_all(json_pack("{s:s, s:i}", "flag", "rollout", "value",
	    num(ok, "id") == 1 ? 10 : 20));
	json_decref(ans);
	harness_conn_close(c);
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
	tcase_add_test(tc, test_conflict);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(fleet_ctl_suite)
