/*
 * fuzz_rpc.c: the control protocol (src/daemon/rpc.c): framing, batches,
 * notifications and every method, against a daemon core that is set up
 * as warden.c sets it up but never started.
 *
 * LLVMFuzzerInitialize builds the core once: an event base, a config
 * loaded from a file in a scratch folder (so that config.reload works),
 * flagsvc with its state in that folder and a table of its own in
 * /dev/shm, the tree (tree_init, not tree_start) and rpc. Each input then
 * comes from a fresh admin client, a struct client with no socket whose
 * output buffer the harness reads:
 *
 *	1. the whole input is one request line (JSON may span lines);
 *	2. if it has newlines, each line again, as control.c frames them
 *	   (CR stripped, empty lines skipped), each in a buffer of its exact
 *	   length so that a read past it is caught;
 *
 * and after each, the loop runs once without blocking (deferred waits,
 * supervision steps, the table check) and every answer in the client's
 * output must be one JSON object or array per line. The client
 * then goes (rpc_client_gone drops what it waited for) and the workers
 * that exited are reaped, so memory stays flat from input to input.
 *
 * A first line "#read" or "#operate" makes the client that role instead,
 * for the refusals.
 *
 * What persists from input to input is the daemon's state: flags, stage,
 * history, journal, and the tree. service.start and service.restart of
 * the root spawn the two workers (/bin/true); they exit, are reaped and
 * wait out an hour of backoff, and the root's intensity is too high to
 * give up, so the tree never stops for good. "shutdown" is answered as
 * usual but tree_shutdown() is wrapped (-Wl,--wrap=tree_shutdown) and
 * only counted: a real one would leave every later input facing a
 * stopping warden.
 *
 * control_send() and json_array_set_new() are wrapped as well, to catch
 * an answer that could not be built (NULL) on its way out: the client
 * would never get one. While that is known and reported, FUZZ_KNOWN
 * holding "null-answer" lets it pass (make fuzz sets it from
 * known.checks; make fuzz-regress does not).
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "config.h"
#include "control.h"
#include "flagsvc.h"
#include "fuzz-util.h"
#include "log.h"
#include "rpc.h"
#include "spawn.h"
#include "journal.h"
#include "tree.h"
#include "util.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
void	__wrap_tree_shutdown(void);
void	__wrap_control_send(struct client *, json_t *);
void	__real_control_send(struct client *, json_t *);
int	__wrap_json_array_set_new(json_t *, size_t, json_t *);
int	__real_json_array_set_new(json_t *, size_t, json_t *);

/* Like the demo's flags and stages (conf/warden.json), and a percentage. */
static const char fuzz_rpc_conf[] =
"{\n"
"  \"socket\": \"warden.sock\",\n"
"  \"state_dir\": \"state\",\n"
"  \"table\": \"%s\",\n"
"  \"flags\": {\n"
"    \"use_ets_agent_registry\": { \"default\": false },\n"
"    \"enable_migration_monitoring\": { \"default\": false },\n"
"    \"use_logger_error_context\": { \"default\": false },\n"
"    \"use_genserver_telemetry\": { \"default\": true },\n"
"    \"use_genserver_span_management\": { \"default\": false },\n"
"    \"use_ets_sampled_events\": { \"default\": false },\n"
"    \"enforce_no_process_dict\": { \"default\": false },\n"
"    \"rollout\": { \"default\": 25, \"description\": \"a percentage\" }\n"
"  },\n"
"  \"stages\": [\n"
"    { \"stage\": 1, \"enable\": [\"use_ets_agent_registry\",\n"
"                              \"enable_migration_monitoring\"] },\n"
"    { \"stage\": 2, \"enable\": [\"use_logger_error_context\"] },\n"
"    { \"stage\": 3, \"enable\": [\"use_genserver_span_management\",\n"
"                              \"use_ets_sampled_events\"] },\n"
"    { \"stage\": 4, \"enable\": [\"enforce_no_process_dict\"] }\n"
"  ],\n"
"  \"guard\": { \"max_restarts\": 10, \"window_s\": 60, \"action\": \"rollback\" },\n"
"  \"supervisor\": {\n"
"    \"name\": \"root\",\n"
"    \"strategy\": \"one_for_one\",\n"
"    \"max_restarts\": 100000,\n"
"    \"max_seconds\": 1,\n"
"    \"children\": [\n"
"      { \"name\": \"registry\", \"command\": [\"/bin/true\"],\n"
"        \"ready\": \"notify\", \"shutdown_ms\": 2000,\n"
"        \"backoff\": { \"initial_ms\": 3600000, \"max_ms\": 3600000 } },\n"
"      { \"name\": \"error_context\", \"command\": [\"/bin/true\"],\n"
"        \"ready\": \"fd\", \"shutdown_ms\": 2000,\n"
"        \"backoff\": { \"initial_ms\": 3600000, \"max_ms\": 3600000 } }\n"
"    ]\n"
"  }\n"
"}\n";

struct fuzz_client {
	struct client		*c;
};

static struct event_base	*base;
static uint64_t			 next_client_id = 1;
static unsigned long		 shutdowns;
static int			 verbose;	/* FUZZ_VERBOSE: logs and answers */
static int			 known_null_answer;	/* FUZZ_KNOWN has null-answer */
static unsigned long		 null_answers;

static void __attribute__((noreturn, format(printf, 1, 2)))
fuzz_rpc_fail(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzz_rpc: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

/* rpc.c's tree_shutdown(): answered, counted, not done. */
void
__wrap_tree_shutdown(void)
{
	shutdowns++;
	if (verbose)
		fprintf(stderr, "fuzz_rpc: shutdown %lu answered, not done\n",
		    shutdowns);
}

/*
 * Every answer rpc.c makes is sent, alone or in its batch: an answer it
 * could not build (json_pack() refusing, say) would leave the client
 * waiting for ever, so a NULL on the way out is a failure.
 */
static void
fuzz_rpc_null_answer(const char *what)
{
	if (!known_null_answer)
		fuzz_rpc_fail("%s", what);
	/* Known and reported: let it pass while fuzzing (see known.checks). */
	null_answers++;
	if (verbose)
		fprintf(stderr, "fuzz_rpc: %s (known; %lu so far)\n", what,
		    null_answers);
}

void
__wrap_control_send(struct client *c, json_t *msg)
{
	if (msg == NULL)
		fuzz_rpc_null_answer("an answer is NULL: the client gets nothing");
	__real_control_send(c, msg);
}

int
__wrap_json_array_set_new(json_t *array, size_t index, json_t *value)
{
	if (value == NULL)
		fuzz_rpc_null_answer("a batch answer is NULL: its slot stays "
		    "empty");
	return __real_json_array_set_new(array, index, value);
}

/* The journal is fdatasync'd on every change: not worth a disk here. */
static int
fuzz_rpc_nosync(int fd)
{
	(void)fd;
	return 0;
}

/* Never fires: control.c arms it while output waits; settle reads the output. */
static void
fuzz_rpc_no_write(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static void
fuzz_rpc_client_new(struct fuzz_client *fc, enum role role)
{
	fc->c = xcalloc(1, sizeof(*fc->c));
	fc->c->id = next_client_id++;
	fc->c->fd = -1;
	TAILQ_INIT(&fc->c->pending);
	fc->c->in = evbuffer_new();
	fc->c->out = evbuffer_new();
	fc->c->ev_write = event_new(base, -1, 0, fuzz_rpc_no_write, NULL);
	if (fc->c->in == NULL || fc->c->out == NULL || fc->c->ev_write == NULL)
		fuzz_rpc_fail("cannot set up a client");
	fc->c->uid = geteuid();
	fc->c->gid = getegid();
	fc->c->pid = getpid();
	fc->c->role = role;
}

static void
fuzz_rpc_client_free(struct fuzz_client *fc)
{
	rpc_client_gone(fc->c);
	if (rpc_client_busy(fc->c))
		fuzz_rpc_fail("a client that is gone still has answers due");
	event_free(fc->c->ev_write);
	evbuffer_free(fc->c->in);
	evbuffer_free(fc->c->out);
	json_decref(fc->c->topics);
	free(fc->c);
	fc->c = NULL;
}

/*
 * Let deferred work run, then read what the client was sent: one JSON
 * text per line, each a response object or a batch's array.
 */
static void
fuzz_rpc_settle(struct fuzz_client *fc)
{
	struct evbuffer	*in;
	json_error_t	 jerr;
	json_t		*v;
	size_t		 len;
	char		*line;

	if (event_base_loop(base, EVLOOP_NONBLOCK) == -1)
		fuzz_rpc_fail("event_base_loop");
	in = fc->c->out;
	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		v = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
		if (v == NULL)
			fuzz_rpc_fail("an answer is not JSON (%s): %s",
			    jerr.text, line);
		if (!json_is_object(v) && !json_is_array(v))
			fuzz_rpc_fail("an answer is neither an object nor a "
			    "batch: %s", line);
		json_decref(v);
		if (verbose)
			fprintf(stderr, "<- %s\n", line);
		free(line);
	}
	/* A partial line would be a broken answer too. */
	if (evbuffer_get_length(in) != 0)
		fuzz_rpc_fail("an answer without its newline");
}

/* Each line as control.c hands it over: no newline, CR stripped, not empty. */
static void
fuzz_rpc_lines(struct fuzz_client *fc, const char *p, size_t n)
{
	const char	*nl;
	char		*line;
	size_t		 len;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		len = nl != NULL ? (size_t)(nl - p) : n;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > 0) {
			/* Exactly len bytes: a read past the line is caught. */
			line = xmalloc(len);
			memcpy(line, p, len);
			rpc_handle(fc->c, line, len);
			free(line);
		}
		if (nl == NULL)
			break;
		n -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
}

/* "#read\n" or "#operate\n" first: the client's role. */
static enum role
fuzz_rpc_role(const char **p, size_t *n)
{
	static const struct {
		const char	*line;
		enum role	 role;
	} roles[] = {
		{ "#read\n", ROLE_READ },
		{ "#operate\n", ROLE_OPERATE },
		{ "#admin\n", ROLE_ADMIN },
	};
	size_t	i, len;

	for (i = 0; i < nitems(roles); i++) {
		len = strlen(roles[i].line);
		if (*n >= len && memcmp(*p, roles[i].line, len) == 0) {
			*p += len;
			*n -= len;
			return roles[i].role;
		}
	}
	return ROLE_ADMIN;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct config	*conf;
	const char	*dir;
	char		*path, *text, err[1024];
	int		 len;

	(void)argc;
	(void)argv;
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	known_null_answer = getenv("FUZZ_KNOWN") != NULL &&
	    strstr(getenv("FUZZ_KNOWN"), "null-answer") != NULL;
	log_init("fuzz_rpc", verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERR);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fuzz_rpc_fail("signal(SIGPIPE)");
	journal_io.fdatasync = fuzz_rpc_nosync;
	journal_io.fsync = fuzz_rpc_nosync;
	spawn_init();

	dir = fuzz_scratch_dir("rpc");
	len = xasprintf(&text, fuzz_rpc_conf, fuzz_shm_name("rpc"));
	xasprintf(&path, "%s/warden.json", dir);
	if (fuzz_write_file(path, text, (size_t)len) == -1)
		fuzz_rpc_fail("%s: %s", path, strerror(errno));
	free(text);
	if (config_load(path, &conf, err, sizeof(err)) == -1)
		fuzz_rpc_fail("%s", err);
	free(path);

	if ((base = event_base_new()) == NULL)
		fuzz_rpc_fail("event_base_new");
	/* As warden.c does it, without the socket and without tree_start(). */
	control_set_config(conf);
	if (flagsvc_init(base, conf, err, sizeof(err)) == -1)
		fuzz_rpc_fail("flagsvc_init: %s", err);
	rpc_init(base);
	tree_init(base, conf);
	tree_on_change(rpc_recheck);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_client	 fc;
	const char		*p = (const char *)data;
	size_t			 n = size;
	enum role		 role;

	role = fuzz_rpc_role(&p, &n);
	if (n == 0)
		return 0;	/* control.c never hands over an empty line */

	fuzz_rpc_client_new(&fc, role);
	rpc_handle(fc.c, p, n);
	fuzz_rpc_settle(&fc);
	if (memchr(p, '\n', n) != NULL) {
		fuzz_rpc_lines(&fc, p, n);
		fuzz_rpc_settle(&fc);
	}
	fuzz_rpc_client_free(&fc);
	/* Workers that exited meanwhile: as SIGCHLD would have it. */
	tree_reap();
	if (event_base_loop(base, EVLOOP_NONBLOCK) == -1)
		fuzz_rpc_fail("event_base_loop");
	return 0;
}
