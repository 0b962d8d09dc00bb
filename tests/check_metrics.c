/*
 * check_metrics.c: warden's metrics against the real warden: the text by
 * RPC and over HTTP agree and pass promtool; restarts are counted under
 * their cause and kept across a reexec; flags, stage and requests show;
 * the endpoint's address at start, at a reload and after a reexec.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpclient.h"
#include "metricstest.h"
#include "suite.h"
#include "testlib.h"
#include "util.h"

#define CONF_METRICS(listen) \
	"{ 'metrics': { 'listen': '" listen "' }," \
	"  'flags': { 'fa': { 'default': false }, 'fb': { 'default': 30 } }," \
	"  'stages': [ { 'stage': 1, 'enable': ['fa'] } ]," \
	"  'supervisor': { 'max_restarts': 100, 'children': [" \
	"    { 'name': 'web', 'command': ['@WORKER@'] }," \
	"    { 'name': 'db', 'command': ['@WORKER@', '--ready', 'notify']," \
	"      'ready': 'notify' } ] } }"

/* The lines of the families that do not move between two scrapes. */
static char *
steady(const char *text)
{
	static const char *const keep[] = { "# ", "warden_build_info",
	    "warden_service_up{", "warden_service_state",
	    "warden_service_restarts_total", "warden_service_last_exit",
	    "warden_service_recovery", "warden_supervisor_max",
	    "warden_flag_value", "warden_stage", "warden_table_repairs_total",
	    "warden_guard_rollbacks_total" };
	const char	*p, *nl;
	char		*out = xcalloc(strlen(text) + 1, 1), *o = out;
	size_t		 i;

	for (p = text; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		for (i = 0; i < nitems(keep); i++)
			if (strncmp(p, keep[i], strlen(keep[i])) == 0) {
				memcpy(o, p, (size_t)(nl - p + 1));
				o += nl - p + 1;
				break;
			}
	}
	return out;
}

/* The same text, or the first line where they part. */
static void
same_lines(const char *a, const char *b)
{
	size_t	i = 0, line = 1;

	for (; a[i] != '\0' && a[i] == b[i]; i++)
		line += a[i] == '\n';
	ck_assert_msg(a[i] == b[i], "line %zu differs: %.120s | %.120s", line,
	    a + i, b + i);
}

START_TEST(test_rpc_and_http_agree)
{
	struct harness	 h;
	char		*listen, *a, *b, *sa, *sb;

	start(&h, CONF_METRICS("127.0.0.1:0"));
	listen = mt_listen(&h);
	a = mt_rpc_text(&h);
	b = mt_http_text(listen);
	sa = steady(a);
	sb = steady(b);
	same_lines(sa, sb);
	/* Every family of the contract is there, once. */
	ck_assert_int_eq(count_of(b, "# TYPE warden_service_up gauge\n"), 1);
	ck_assert(mt_value(b, "warden_service_up{service=\"web\"}") == 1);
	ck_assert(mt_value(b, "warden_service_state{service=\"db\",state=\"running\"}") == 1);
	ck_assert(mt_value(b, "warden_service_state{service=\"db\",state=\"stopped\"}") == 0);
	ck_assert(mt_value(b, "warden_build_info{version=\"0.1.0\"}") == 1);
	ck_assert(mt_value(b, "warden_supervisor_max_restarts{supervisor=\"root\"}") == 100);
	ck_assert(mt_has(b, "warden_supervisor_restarts_in_window{supervisor=\"root\"}"));
	ck_assert(mt_value(b, "warden_service_recovery_ready_seconds_count{service=\"web\"}") == 0);
	ck_assert(mt_value(b, "process_open_fds") > 3);
	ck_assert(mt_value(b, "process_max_fds") >= mt_value(b, "process_open_fds"));
	ck_assert(mt_value(b, "process_resident_memory_bytes") > 0);
	ck_assert(mt_value(b, "process_start_time_seconds") > 1.6e9);
	ck_assert(mt_has(b, "process_cpu_seconds_total"));
	free(listen);
	free(a);
	free(b);
	free(sa);
	free(sb);
	stop(&h);
}
END_TEST

/* A kill is a crash: counted once the new process starts, and timed. */
START_TEST(test_kill_counts_crash)
{
	struct harness	 h;
	char		*listen, *t;
	const char	*reasons[] = { "exit", "ready_timeout", "unhealthy",
	    "watchdog", "operator", "supervisor", "start_failed" };
	char		 series[128];
	size_t		 i;

	start(&h, CONF_METRICS(":0"));
	listen = mt_listen(&h);
	json_decref(result(&h, "service.kill", js("{'service': 'db'}")));
	wait_restarts(&h, "db", "running", 1);
	t = mt_http_text(listen);
	ck_assert(mt_value(t, "warden_service_restarts_total{service=\"db\",reason=\"crash\"}") == 1);
	for (i = 0; i < nitems(reasons); i++) {
		snprintf(series, sizeof(series), "warden_service_restarts_total"
		    "{service=\"db\",reason=\"%s\"}", reasons[i]);
		ck_assert(mt_value(t, series) == 0);
	}
	ck_assert(mt_value(t, "warden_service_restarts_total{service=\"web\",reason=\"crash\"}") == 0);
	ck_assert(mt_value(t, "warden_service_last_exit_signal{service=\"db\",signal=\"KILL\"}") == 9);
	ck_assert(!mt_has(t, "warden_service_last_exit_code{service=\"db\"}"));
	ck_assert(mt_value(t, "warden_service_recovery_started_seconds_count{service=\"db\"}") == 1);
	ck_assert(mt_value(t, "warden_service_recovery_ready_seconds_count{service=\"db\"}") == 1);
	ck_assert(mt_value(t, "warden_service_recovery_ready_seconds_bucket{service=\"db\",le=\"+Inf\"}") == 1);
	/* Ready comes after started, both well under the 30 s bucket. */
	ck_assert(mt_value(t, "warden_service_recovery_ready_seconds_sum{service=\"db\"}") >=
	    mt_value(t, "warden_service_recovery_started_seconds_sum{service=\"db\"}"));
	ck_assert(mt_value(t, "warden_service_recovery_ready_seconds_bucket{service=\"db\",le=\"30\"}") == 1);
	ck_assert(mt_value(t, "warden_service_up{service=\"db\"}") == 1);
	ck_assert(mt_value(t, "warden_supervisor_restarts_in_window{supervisor=\"root\"}") == 1);
	free(t);
	free(listen);
	stop(&h);
}
END_TEST

/* A worker that stops feeding its watchdog is restarted as "watchdog". */
START_TEST(test_watchdog_reason)
{
	struct harness	 h;
	char		*t;
	pid_t		 pid;

	start(&h, "{ 'supervisor': { 'max_restarts': 10, 'children': ["
	    " { 'name': 'w', 'command': ['@BIN@/tests/watchdog-worker'],"
	    " 'ready': 'notify', 'watchdog_ms': 100 } ] } }");
	pid = pid_of(&h, "w");
	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	wait_restarts(&h, "w", "running", 1);
	t = mt_rpc_text(&h);
	ck_assert(mt_value(t, "warden_service_restarts_total{service=\"w\",reason=\"watchdog\"}") == 1);
	ck_assert(mt_value(t, "warden_service_restarts_total{service=\"w\",reason=\"crash\"}") == 0);
	ck_assert(mt_value(t, "warden_service_last_exit_signal{service=\"w\",signal=\"ABRT\"}") == SIGABRT);
	ck_assert(mt_value(t, "warden_service_health_check_failures_total{service=\"w\"}") >= 0);
	free(t);
	stop(&h);
}
END_TEST

/* The operator's restart is "operator"; the sum over reasons is status' restarts. */
START_TEST(test_operator_restart_and_sum)
{
	struct harness	 h;
	char		*t, *p;
	double		 sum = 0;

	start(&h, CONF_METRICS(":0"));
	json_decref(result(&h, "service.restart", js("{'service': 'web'}")));
	json_decref(result(&h, "service.kill", js("{'service': 'web'}")));
	wait_restarts(&h, "web", "running", 2);
	t = mt_rpc_text(&h);
	ck_assert(mt_value(t, "warden_service_restarts_total{service=\"web\",reason=\"operator\"}") == 1);
	ck_assert(mt_value(t, "warden_service_restarts_total{service=\"web\",reason=\"crash\"}") == 1);
	for (p = t; (p = strstr(p, "warden_service_restarts_total{service=\"web\"")) != NULL; p++)
		sum += strtod(strchr(p, ' ') + 1, NULL);
	ck_assert(sum == (double)field_of(&h, "web", "restarts"));
	/* The operator's restart is no recovery: only the kill was timed. */
	ck_assert(mt_value(t, "warden_service_recovery_ready_seconds_count{service=\"web\"}") == 1);
	free(t);
	stop(&h);
}
END_TEST

START_TEST(test_flag_and_stage)
{
	struct harness	 h;
	char		*t;

	start(&h, CONF_METRICS(":0"));
	t = mt_rpc_text(&h);
	ck_assert(mt_value(t, "warden_flag_value{flag=\"fa\"}") == 0);
	ck_assert(mt_value(t, "warden_flag_value{flag=\"fb\"}") == 30);
	ck_assert(mt_value(t, "warden_stage") == 0);
	free(t);
	json_decref(result(&h, "flag.set", js("{'name': 'fb', 'value': 75}")));
	json_decref(result(&h, "stage.set", js("{'stage': 1}")));
	t = mt_rpc_text(&h);
	ck_assert(mt_value(t, "warden_flag_value{flag=\"fa\"}") == 100);
	ck_assert(mt_value(t, "warden_flag_value{flag=\"fb\"}") == 75);
	ck_assert(mt_value(t, "warden_stage") == 1);
	ck_assert(mt_value(t, "warden_table_repairs_total") == 0);
	ck_assert(mt_value(t, "warden_guard_rollbacks_total") == 0);
	free(t);
	stop(&h);
}
END_TEST

/* The guard's rollback and a table repair are counted. */
START_TEST(test_guard_and_repairs)
{
	struct harness	 h;
	char		*t;

	start(&h, "{ 'flags': { 'fa': { 'default': false } },"
	    " 'stages': [ { 'stage': 1, 'enable': ['fa'] } ],"
	    " 'guard': { 'max_restarts': 1, 'window_s': 60 },"
	    " 'supervisor': { 'max_restarts': 100, 'children': ["
	    " { 'name': 'web', 'command': ['@WORKER@'] } ] } }");
	json_decref(result(&h, "stage.set", js("{'stage': 1}")));
	json_decref(result(&h, "service.kill", js("{'service': 'web'}")));
	wait_restarts(&h, "web", "running", 1);
	json_decref(result(&h, "service.kill", js("{'service': 'web'}")));
	wait_restarts(&h, "web", "running", 2);
	ck_assert_int_eq(harness_wait(&h, js("{'stage': 0}"), TESTLIB_WAIT), 0);
	json_decref(result(&h, "table.delete", NULL));
	ck_assert_int_eq(harness_wait_recovered(&h, TESTLIB_WAIT), 0);
	t = mt_rpc_text(&h);
	ck_assert(mt_value(t, "warden_guard_rollbacks_total") == 1);
	ck_assert(mt_value(t, "warden_stage") == 0);
	ck_assert(mt_value(t, "warden_table_repairs_total") == 1);
	free(t);
	stop(&h);
}
END_TEST

/* Requests by method; an unknown one under "other", never its own text. */
START_TEST(test_requests_by_method)
{
	struct harness	 h;
	json_t		*r;
	char		*t;

	start(&h, CONF_METRICS(":0"));
	r = harness_call(&h, "no.such\"method", NULL);
	ck_assert_int_eq(harness_error_code(r), -32601);
	json_decref(r);
	json_decref(result(&h, "ping", NULL));
	json_decref(result(&h, "ping", NULL));
	t = mt_rpc_text(&h);
	ck_assert(mt_value(t, "warden_control_requests_total{method=\"ping\"}") == 2);
	ck_assert(mt_value(t, "warden_control_requests_total{method=\"other\"}") == 1);
	ck_assert(mt_value(t, "warden_control_requests_total{method=\"metrics\"}") == 1);
	ck_assert(mt_value(t, "warden_control_requests_total{method=\"flag.set\"}") == 0);
	ck_assert_ptr_null(strstr(t, "no.such"));
	free(t);
	stop(&h);
}
END_TEST

/* promtool reads the text as Prometheus would, with a failure and exits in it. */
START_TEST(test_promtool_check_metrics)
{
	struct harness	 h;
	char		*t, *path;

	mt_need(MT_PROMTOOL);
	start(&h, CONF_METRICS(":0"));
	json_decref(result(&h, "service.kill", js("{'service': 'web'}")));
	wait_restarts(&h, "web", "running", 1);
	t = mt_http_text(mt_listen(&h));
	path = harness_path(&h, "metrics.txt");
	ck_assert_int_eq(harness_write_file(&h, "metrics.txt", t), 0);
	mt_promtool(&h, path, "check", "metrics", NULL);
	free(path);
	free(t);
	stop(&h);
}
END_TEST

/* wardenctl metrics prints the text; -j the answer. */
START_TEST(test_wardenctl_metrics)
{
	struct harness	 h;
	char		*out = NULL;
	json_t		*j;

	start(&h, CONF_METRICS(":0"));
	ck_assert_int_eq(harness_ctl(&h, &out, NULL, "metrics", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "# TYPE warden_service_up gauge\n"));
	ck_assert(mt_value(out, "warden_service_up{service=\"db\"}") == 1);
	free(out);
	ck_assert_int_eq(harness_ctl(&h, &out, NULL, "-j", "metrics", NULL), 0);
	j = json_loads(out, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert_ptr_nonnull(strstr(str(j, "text"), "warden_stage 0\n"));
	ck_assert_ptr_nonnull(str(j, "listen"));
	json_decref(j);
	free(out);
	stop(&h);
}
END_TEST

/* Without the key there is no endpoint; RPC still answers. */
START_TEST(test_no_endpoint)
{
	struct harness	 h;
	json_t		*r;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'web', 'command': ['@WORKER@'] } ] } }");
	r = result(&h, "metrics", NULL);
	ck_assert_ptr_null(json_object_get(r, "listen"));
	ck_assert_ptr_nonnull(strstr(str(r, "text"), "warden_service_up{service=\"web\"} 1\n"));
	json_decref(r);
	stop(&h);
}
END_TEST

/* A port taken by another: warden says which and does not start. */
static int
taken_port(int *fd)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	socklen_t		len = sizeof(sin);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ne(*fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(*fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(*fd, 1), 0);
	ck_assert_int_eq(getsockname(*fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

START_TEST(test_bind_fails_at_start)
{
	struct harness	 h;
	char		*conf, *log, want[96];
	int		 fd, port = taken_port(&fd);

	conf = cfg("{ 'metrics': { 'listen': '127.0.0.1:%d' }, 'supervisor': {"
	    " 'children': [ { 'name': 'web', 'command': ['@WORKER@'] } ] } }",
	    port);
	ck_assert_int_eq(harness_start_expect_fail(&h, conf, TESTLIB_WAIT), 1);
	log = harness_log(&h);
	snprintf(want, sizeof(want), "metrics: listen 127.0.0.1:%d: Address "
	    "already in use", port);
	ck_assert_msg(strstr(log, want) != NULL, "%s", log);
	free(log);
	free(conf);
	close(fd);
	harness_cleanup(&h);
}
END_TEST

/*
 * A reload to a new address binds it and lets the old go; to a taken one
 * it is refused, and the endpoint stays where it was.
 */
START_TEST(test_reload_rebinds)
{
	struct harness	 h;
	char		*conf, *before, *after, *t;
	int		 fd, port = taken_port(&fd);
	json_t		*r;

	start(&h, CONF_METRICS("127.0.0.1:0"));
	before = mt_listen(&h);
	conf = cfg("{ 'metrics': { 'listen': '127.0.0.1:%d' }, 'supervisor': {"
	    " 'children': [ { 'name': 'web', 'command': ['@WORKER@'] } ] } }",
	    port);
	ck_assert_int_eq(harness_write_config(&h, conf), 0);
	r = harness_call(&h, "config.reload", NULL);
	ck_assert_int_ne(harness_error_code(r), 0);
	ck_assert_ptr_nonnull(strstr(dump(r), "Address already in use"));
	json_decref(r);
	after = mt_listen(&h);
	ck_assert_str_eq(before, after);
	free(mt_http_text(after));
	free(after);
	close(fd);		/* free now: the same reload binds it */
	json_decref(result(&h, "config.reload", NULL));
	after = mt_listen(&h);
	ck_assert_int_eq(atoi(strrchr(after, ':') + 1), port);
	t = mt_http_text(after);
	ck_assert(mt_value(t, "warden_service_up{service=\"web\"}") == 1);
	ck_assert(!mt_has(t, "warden_service_up{service=\"db\"}"));
	free(t);
	ck_assert_int_eq(http_connect(before, false), -1);	/* the old one is gone */
	free(before);
	free(after);
	free(conf);
	stop(&h);
}
END_TEST

/* A keep-alive connection answered once: open, and counted by warden. */
static int
open_answered(const char *listen)
{
	static const char	 req[] = "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	struct pollfd		 pfd;
	char			 buf[4096];
	size_t			 len = 0;
	ssize_t			 n;
	int			 fd = http_connect(listen, false);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(http_send(fd, req, sizeof(req) - 1, TESTLIB_WAIT), 0);
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (len < sizeof(buf) - 1 && (len < 4 || memmem(buf, len, "\r\n\r\n", 4) == NULL)) {
		ck_assert_int_eq(poll(&pfd, 1, TESTLIB_WAIT), 1);
		ck_assert_int_gt(n = read(fd, buf + len, sizeof(buf) - 1 - len), 0);
		len += (size_t)n;
	}
	ck_assert(strncmp(buf, "HTTP/1.1 200", 12) == 0);
	return fd;
}

/*
 * A reload to another address while the old endpoint is at its limit: the
 * old server goes with its connections (each one's close seen), the new
 * one answers.
 */
START_TEST(test_reload_at_the_limit)
{
	struct harness	 h;
	char		*listen, *after, *raw;
	size_t		 n;
	int		 fd;

	start(&h, "{ 'metrics': { 'listen': '127.0.0.1:0', 'max_connections': 1 },"
	    " 'supervisor': { 'children': [] } }");
	listen = mt_listen(&h);
	fd = open_answered(listen);
	ck_assert_int_eq(harness_write_config(&h, dq("{ 'metrics': { 'listen': "
	    "'[::1]:0', 'max_connections': 1 }, 'supervisor': { 'children': [] } }")), 0);
	json_decref(result(&h, "config.reload", NULL));
	ck_assert_int_eq(http_read_all(fd, TESTLIB_WAIT, &raw, &n), 0);
	ck_assert_uint_eq(n, 0);	/* closed with the old server */
	free(raw);
	close(fd);
	after = mt_listen(&h);
	ck_assert_ptr_nonnull(strstr(after, "[::1]:"));
	free(mt_http_text(after));
	free(after);
	free(listen);
	stop(&h);
}
END_TEST

/* After a reexec the same socket answers, and restarts by reason are kept. */
START_TEST(test_reexec_keeps_endpoint_and_counts)
{
	struct harness	 h;
	char		*listen, *after, *t;
	json_t		*r;

	start(&h, CONF_METRICS(":0"));
	listen = mt_listen(&h);
	json_decref(result(&h, "service.kill", js("{'service': 'web'}")));
	wait_restarts(&h, "web", "running", 1);
	r = harness_call_timeout(&h, "reexec", NULL, 30000);
	ck_assert_msg(harness_error_code(r) == 0, "%s", dump(r));
	json_decref(r);
	after = mt_listen(&h);
	ck_assert_str_eq(listen, after);
	t = mt_http_text(listen);
	ck_assert(mt_value(t, "warden_service_restarts_total{service=\"web\",reason=\"crash\"}") == 1);
	free(t);
	/* The cause of the next one is still taken, after the handover. */
	json_decref(result(&h, "service.kill", js("{'service': 'web'}")));
	wait_restarts(&h, "web", "running", 2);
	t = mt_http_text(listen);
	ck_assert(mt_value(t, "warden_service_restarts_total{service=\"web\",reason=\"crash\"}") == 2);
	free(t);
	free(after);
	free(listen);
	stop(&h);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc = tcase_create("live");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_rpc_and_http_agree);
	tcase_add_test(tc, test_kill_counts_crash);
	tcase_add_test(tc, test_operator_restart_and_sum);
	tcase_add_test(tc, test_watchdog_reason);
	tcase_add_test(tc, test_flag_and_stage);
	tcase_add_test(tc, test_guard_and_repairs);
	tcase_add_test(tc, test_requests_by_method);
	tcase_add_test(tc, test_promtool_check_metrics);
	tcase_add_test(tc, test_wardenctl_metrics);
	tcase_add_test(tc, test_no_endpoint);
	tcase_add_test(tc, test_bind_fails_at_start);
	tcase_add_test(tc, test_reload_rebinds);
	tcase_add_test(tc, test_reload_at_the_limit);
	tcase_add_test(tc, test_reexec_keeps_endpoint_and_counts);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(make_suite)
