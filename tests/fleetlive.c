/*
 * fleetlive.c: three real wardens, members of one fleet on a real etcd,
 * for the fleet's live suites (fleetlive.h).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcdloop.h"
#include "fleet.h"
#include "fleetlive.h"
#include "testlib.h"
#include "util.h"

struct etcdtest		 etcd;
struct harness		 host[NHOSTS];
struct etcdc		*cli;
bool			 live_killed[NHOSTS];

const char		*live_endpoint[NHOSTS];
bool			 live_readers;

/*
 * Host i's configuration: LIVE_CONF on etcd, or on live_endpoint[i] with
 * requests bounded by LIVE_VIA_TIMEOUT; with a reader when live_readers.
 */
static char *
live_conf(int i)
{
	json_error_t	 je;
	json_t		*j, *f;
	char		*conf = cfg(LIVE_CONF, live_endpoint[i] != NULL ?
			    live_endpoint[i] : etcd.url, i + 1), *t;

	if (live_endpoint[i] == NULL && !live_readers)
		return conf;
	j = json_loads(conf, 0, &je);
	ck_assert_msg(j != NULL, "LIVE_CONF: %s", je.text);
	f = json_object_get(j, "fleet");
	if (live_endpoint[i] != NULL)
		json_object_set_new(f, "timeout_ms",
		    json_integer(LIVE_VIA_TIMEOUT));
	if (live_readers)
		json_array_append_new(json_object_get(json_object_get(j,
		    "supervisor"), "children"), json_pack("{s:s, s:[s,s,s]}",
		    "name", "r", "command", "@BIN@/tests/report-worker", "read",
		    "logctx"));
	t = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	free(conf);
	return t;
}

void
live_start_host(int i)
{
	char	*conf = live_conf(i);

	ck_assert_msg(harness_start(&host[i], conf) == 0, "w%d did not start",
	    i + 1);
	free(conf);
}

void
live_setup_etcd(void)
{
	memset(live_killed, 0, sizeof(live_killed));
	etcdloop_setup();
	etcdtest_start(&etcd);
	cli = etcdloop_client(&etcd);
}

void
live_setup_hosts(void)
{
	struct live_reports	lr;
	int			i;

	for (i = 0; i < NHOSTS; i++)
		live_start_host(i);
	memset(&lr, 0, sizeof(lr));
	live_reports_wait(&lr, 1);
}

/* etcd, and three wardens that have joined (each has put its report). */
void
live_setup(void)
{
	live_setup_etcd();
	live_setup_hosts();
}

void
live_teardown(void)
{
	int	i, status;

	/* Each warden a test left running exits cleanly (sanitizers too). */
	for (i = 0; i < NHOSTS; i++) {
		if (host[i].pid > 0) {
			json_decref(harness_call(&host[i], "shutdown", NULL));
			(void)harness_wait_exit(&host[i], LIVE_WAIT);
		}
		status = host[i].status;
		if (!live_killed[i] && status != 0)
			harness_log_tail(&host[i], 80);
		harness_cleanup(&host[i]);
		ck_assert_msg(live_killed[i] || status == 0, "w%d exited with "
		    "status %d", i + 1, status);
	}
	etcdc_free(cli);
	etcdtest_cleanup(&etcd);
}

/* A change's value by ctl-1, with its fields as JSON text. */
char *
live_value(const char *fields)
{
	char	*t;

	xasprintf(&t, "{%s, \"by\": {\"host\": \"ctl-1\", \"uid\": 1000, "
	    "\"pid\": 4242}, \"at\": 1714564800000, \"reason\": \"live\"}",
	    fields);
	return t;
}

int64_t
live_put(const char *key, const char *value)
{
	return etcdloop_put(cli, key, value, 0);
}

/* Every host waits until the condition (stolen) holds. */
void
live_wait_all(json_t *cond)
{
	int	i;

	for (i = 0; i < NHOSTS; i++)
		ck_assert_msg(harness_wait(&host[i], json_deep_copy(cond),
		    LIVE_WAIT) == 0, "w%d: condition not met", i + 1);
	json_decref(cond);
}

/* Host i's status.fleet (a new reference). */
json_t *
live_fleet_status(int i)
{
	json_t	*st = harness_result(&host[i], "status", NULL), *f;

	ck_assert_ptr_nonnull(st);
	f = json_incref(json_object_get(st, "fleet"));
	json_decref(st);
	ck_assert_msg(json_is_object(f), "w%d: no fleet in its status", i + 1);
	return f;
}

static void
live_reports_event(void *arg, json_t *o)
{
	struct live_reports	*lr = arg;
	struct fleet_report	 r;
	struct etcd_watch	 w;
	char			 name[FLEET_NAME_BUF], err[ETCD_ERR_MAX];
	size_t			 i;
	int			 h, n = 0;

	ck_assert_msg(etcd_parse_watch(o, &w, err) == 0, "%s", err);
	for (i = 0; i < w.n; i++) {
		if (fleet_key_parse(PFX, w.events[i].kv.key.p,
		    w.events[i].kv.key.len, name) != FLEET_KEY_HOST ||
		    name[0] != 'w')
			continue;
		h = atoi(name + 1) - 1;
		if (h < 0 || h >= NHOSTS)
			continue;	/* one a test wrote by hand */
		if (w.events[i].type == ETCD_EVENT_DELETE) {
			lr->gone[h] = true;
			continue;
		}
		ck_assert_msg(fleet_report_decode("report",
		    w.events[i].kv.value.p, w.events[i].kv.value.len, &r, err,
		    sizeof(err)) == 0, "%s", err);
		if (r.revision >= lr->want && (!lr->want_guard || r.guard.has) &&
		    (!lr->want_observed || r.observed >= lr->want))
			lr->seen[h] = true;
		fleet_report_clear(&r);
	}
	etcd_watch_free(&w);
	for (h = 0; h < NHOSTS; h++)
		n += lr->seen[h];
	if (lr->want_gone)
		lr->done = lr->gone[lr->gone_of];
	else
		lr->done = lr->only > 0 ? lr->seen[lr->only - 1] : n == NHOSTS;
}

/* Watch the hosts' reports from revision from until lr is done. */
void
live_reports_wait(struct live_reports *lr, int64_t from)
{
	struct etcdloop_watcher	 w;
	struct etcd_buf		 end;
	json_t			*body;

	memset(&w, 0, sizeof(w));
	etcd_prefix_end(PFX "hosts/", &end);
	body = etcd_req_watch(PFX "hosts/", &end, from);
	w.r = etcdc_watch(cli, body, live_reports_event, etcdloop_watcher_end,
	    lr);
	json_decref(body);
	etcd_buf_free(&end);
	ck_assert_ptr_nonnull(w.r);
	etcdloop_run_until(&lr->done, "the hosts' reports");
	etcdc_cancel(w.r);
}
