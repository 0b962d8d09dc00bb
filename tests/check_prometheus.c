/*
 * check_prometheus.c: a real Prometheus server scrapes the test warden.
 * /usr/bin/prometheus (Debian's package prometheus) runs on a free
 * loopback port with its configuration and storage in the test's folder,
 * a short scrape interval, and the alert rules conf/prometheus ships. The
 * test waits (polling Prometheus' HTTP API, the one way to see what it
 * has, with a failure bound) until the target is up, kills a worker, and
 * reads the restart back through /api/v1/query; both shipped rules must
 * be loaded and healthy (/api/v1/rules). The shipped files also pass
 * promtool. Prometheus is killed at the end, and is in the test's process
 * group, which Check kills when a test fails.
 *
 * The suite runs from the top of the source tree, as make check runs it.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#define PROM_RULES	"conf/prometheus/warden-alerts.yml"
#define PROM_CONFIG	"conf/prometheus/prometheus.yml"
#define PROM_WAIT	90000	/* failure bound: Prometheus starts, scrapes, evaluates */
#define PROM_POLL_MS	200

/* Where Prometheus' web API answers. */
static char prom_addr[64];

static pid_t
prom_start(struct harness *h, const char *listen)
{
	char	*conf, *cpath, *tsdb, *log, *opt_conf, *opt_tsdb, *opt_web;
	char	 rules[PATH_MAX];
	pid_t	 pid;
	int	 fd;

	ck_assert_msg(realpath(PROM_RULES, rules) != NULL, "%s: %s (run from "
	    "the top of the source tree)", PROM_RULES, strerror(errno));
	conf = cfg("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
	    "rule_files:\n  - '%s'\nscrape_configs:\n  - job_name: warden\n"
	    "    static_configs:\n      - targets: ['%s']\n", rules, listen);
	ck_assert_int_eq(harness_write_file(h, "prometheus.yml", conf), 0);
	cpath = harness_path(h, "prometheus.yml");
	tsdb = harness_path(h, "tsdb");
	log = harness_path(h, "prometheus.log");
	xasprintf(&opt_conf, "--config.file=%s", cpath);
	xasprintf(&opt_tsdb, "--storage.tsdb.path=%s", tsdb);
	snprintf(prom_addr, sizeof(prom_addr), "127.0.0.1:%d", free_port());
	xasprintf(&opt_web, "--web.listen-address=%s", prom_addr);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		CHILD_CHECK(fd != -1, "%s: %s", log, strerror(errno));
		CHILD_CHECK(dup2(fd, 1) != -1 && dup2(fd, 2) != -1, "dup2");
		execl(MT_PROMETHEUS, "prometheus", opt_conf, opt_tsdb, opt_web,
		    "--log.level=warn", (char *)NULL);
		CHILD_CHECK(0, "exec %s: %s", MT_PROMETHEUS, strerror(errno));
	}
	free(conf);
	free(cpath);
	free(tsdb);
	free(log);
	free(opt_conf);
	free(opt_tsdb);
	free(opt_web);
	return pid;
}

static void
prom_stop(pid_t pid)
{
	int	status;

	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	if (harness_wait_pid_gone(pid, 10000) == -1)
		(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &status, 0);
}

/* Percent-encode a PromQL query for a URL. */
static char *
url_encode(const char *s)
{
	char	*out = xmalloc(strlen(s) * 3 + 1), *o = out;

	for (; *s != '\0'; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '.')
			*o++ = *s;
		else
			o += sprintf(o, "%%%02X", (unsigned char)*s);
	}
	*o = '\0';
	return out;
}

/* GET path from Prometheus: its JSON "data", or NULL (not up, not yet). */
static json_t *
prom_get(const char *path)
{
	struct http_reply	 r;
	json_t			*j, *data = NULL;

	if (http_request(prom_addr, "GET", path, 5000, &r) == -1)
		return NULL;
	if (r.status == 200 && (j = json_loads(r.body, 0, NULL)) != NULL) {
		if (strcmp(str(j, "status") != NULL ? str(j, "status") : "",
		    "success") == 0)
			data = json_incref(json_object_get(j, "data"));
		json_decref(j);
	}
	http_reply_free(&r);
	return data;
}

/* The value of an instant query's first sample, or NAN when there is none. */
static double
prom_query(const char *promql)
{
	char	*q = url_encode(promql), *path;
	json_t	*data, *v;
	double	 value = NAN;

	xasprintf(&path, "/api/v1/query?query=%s", q);
	if ((data = prom_get(path)) != NULL) {
		v = json_object_get(json_array_get(json_object_get(data, "result"),
		    0), "value");
		if (json_is_string(json_array_get(v, 1)))
			value = strtod(json_string_value(json_array_get(v, 1)), NULL);
		json_decref(data);
	}
	free(path);
	free(q);
	return value;
}

/* Whether both shipped rules are loaded and evaluated without error. */
static bool
prom_rules_ok(char *why, size_t len)
{
	json_t		*data = prom_get("/api/v1/rules"), *g, *rule;
	size_t		 i, j;
	int		 ok = 0;

	snprintf(why, len, "no answer from /api/v1/rules");
	if (data == NULL)
		return false;
	json_array_foreach(json_object_get(data, "groups"), i, g)
		json_array_foreach(json_object_get(g, "rules"), j, rule) {
			snprintf(why, len, "%s: health %s %s", str(rule, "name"),
			    str(rule, "health"), str(rule, "lastError") != NULL ?
			    str(rule, "lastError") : "");
			if ((strcmp(str(rule, "name"), "WardenServiceRestartLoop") == 0 ||
			    strcmp(str(rule, "name"), "WardenServiceDown") == 0) &&
			    strcmp(str(rule, "health"), "ok") == 0)
				ok++;
		}
	json_decref(data);
	return ok == 2;
}

/* Poll until the query's value is want: Prometheus' API is the only window. */
static void
prom_wait_value(const char *promql, double want)
{
	uint64_t	deadline = util_now_ms() + PROM_WAIT;
	double		v = NAN;

	while (util_now_ms() < deadline) {
		if ((v = prom_query(promql)) == want)
			return;
		(void)poll(NULL, 0, PROM_POLL_MS);
	}
	ck_abort_msg("%s: %g after %d ms, want %g", promql, v, PROM_WAIT, want);
}

START_TEST(test_shipped_files_check)
{
	struct harness	 h;
	char		 cfgpath[PATH_MAX];

	mt_need(MT_PROMTOOL);
	ck_assert_msg(realpath(PROM_CONFIG, cfgpath) != NULL, "%s: %s",
	    PROM_CONFIG, strerror(errno));
	start(&h, "{ 'supervisor': { 'children': [] } }");
	mt_promtool(&h, NULL, "check", "rules", PROM_RULES, NULL);
	/* rule_files resolve against the config's folder: the shipped pair. */
	mt_promtool(&h, NULL, "check", "config", cfgpath, NULL);
	stop(&h);
}
END_TEST

START_TEST(test_prometheus_scrapes)
{
	struct harness	 h;
	char		*listen, why[256];
	uint64_t	 deadline;
	pid_t		 prom;

	mt_need(MT_PROMETHEUS);
	start(&h, "{ 'metrics': { 'listen': '127.0.0.1:0' }, 'supervisor': {"
	    " 'max_restarts': 10, 'children': ["
	    " { 'name': 'web', 'command': ['@WORKER@'] } ] } }");
	listen = mt_listen(&h);
	prom = prom_start(&h, listen);
	prom_wait_value("up{job=\"warden\"}", 1);
	prom_wait_value("warden_service_up{service=\"web\"}", 1);
	json_decref(result(&h, "service.kill", js("{'service': 'web'}")));
	wait_restarts(&h, "web", "running", 1);
	prom_wait_value("warden_service_restarts_total{service=\"web\",reason=\"crash\"}", 1);
	prom_wait_value("warden_service_recovery_ready_seconds_count{service=\"web\"}", 1);
	deadline = util_now_ms() + PROM_WAIT;
	while (!prom_rules_ok(why, sizeof(why))) {
		ck_assert_msg(util_now_ms() < deadline, "rules: %s", why);
		(void)poll(NULL, 0, PROM_POLL_MS);
	}
	prom_stop(prom);
	free(listen);
	stop(&h);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("prometheus");
	TCase	*tc = tcase_create("server");

	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, test_shipped_files_check);
	tcase_add_test(tc, test_prometheus_scrapes);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(make_suite)
