/*
 * check_handover.c: the control socket handed over by a reexec, in
 * process and without an exec. The control socket, rpc.c, the flags and
 * the tree are set up as warden sets them up; real clients connect and
 * leave work half done (a wait, a batch with a member waiting, a partial
 * line, events queued for a subscriber, output the socket did not take,
 * a line held back behind it); control_handover() describes it all, the
 * objects are freed with every fd left open (as the exec would), rpc.c
 * starts again as in a new image, and control_adopt() takes the
 * description back from its text. Each client must go on as if nothing
 * had happened. Then the same with the handover undone, descriptions that
 * are wrong in every way we can think of, and the reexec method itself.
 *
 * The test process is both warden and its clients: it runs warden's loop
 * until the client's fd is readable (or whatever proves the step), with a
 * deadline that only bounds a failure. Nothing sleeps.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "control.h"
#include "desc.h"
#include "flagsvc.h"
#include "rpc.h"
#include "tree.h"
#include "util.h"
#include "suite.h"

#define T_STEP		10000	/* failure bound of one step, ms */
#define BATCH_PINGS	300	/* answers a small socket cannot hold */
#define PING(id)	"{\"jsonrpc\":\"2.0\",\"id\":" #id \
			",\"method\":\"ping\"}"

static char			 dir[PATH_MAX], table[64];
static struct event_base	*base;
static struct config		*conf;

/*
 * Four flags: f is waited on and set by a client, g makes events for the
 * subscriber, h is never set (waits on it time out), k is set while no
 * image runs. Output is capped low so that a big answer pauses reading.
 */
static const char conf_text[] =
    "{ \"socket\": \"%s/w.sock\", \"state_dir\": \"%s/state\",\n"
    "  \"table\": \"%s\",\n"
    "  \"limits\": { \"max_output_bytes\": 4096 },\n"
    "  \"flags\": { \"f\": {}, \"g\": {}, \"h\": {}, \"k\": {} },\n"
    "  \"supervisor\": { \"children\": [\n"
    "    { \"name\": \"a\", \"command\": [\"/bin/true\"] } ] } }\n";

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
setup(void)
{
	char	*text, path[PATH_MAX + 16], err[1024];

	ck_assert_msg(signal(SIGPIPE, SIG_IGN) != SIG_ERR, "SIGPIPE");
	snprintf(dir, sizeof(dir), "%s/check_handover.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(table, sizeof(table), "/warden-handover-%ld", (long)getpid());
	xasprintf(&text, conf_text, dir, dir, table);
	snprintf(path, sizeof(path), "%s/warden.json", dir);
	ck_assert_msg(config_parse(text, strlen(text), path, &conf, err,
	    sizeof(err)) == 0, "%s", err);
	free(text);
	ck_assert_ptr_nonnull(base = event_base_new());
	ck_assert_int_eq(control_listen(base, conf), 0);
	ck_assert_msg(flagsvc_init(base, conf, err, sizeof(err)) == 0, "%s",
	    err);
	rpc_init(base);
	tree_init(base, conf);
}

static void
teardown(void)
{
	control_shutdown();
	flagsvc_shutdown();
	rpc_free();
	tree_free();
	config_free(conf);
	event_base_free(base);
	(void)shm_unlink(table);
	(void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* --- running warden's loop ------------------------------------------------ */

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
}

/* Run the loop until cond holds; false when it still does not after ms. */
static bool
pump_until(bool (*cond)(void *), void *arg, int ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };
	struct event	*t;
	bool		 late = false;

	ck_assert_ptr_nonnull(t = evtimer_new(base, deadline_cb, &late));
	ck_assert_int_eq(evtimer_add(t, &tv), 0);
	while (!cond(arg) && !late)
		ck_assert_int_ne(event_base_loop(base, EVLOOP_ONCE), -1);
	event_free(t);
	return cond(arg);
}

/* Turns of the loop with whatever is ready now, none waiting. */
static void
pump_ready(void)
{
	int	i;

	for (i = 0; i < 8; i++)
		ck_assert_int_ne(event_base_loop(base, EVLOOP_NONBLOCK), -1);
}

/* --- clients -------------------------------------------------------------- */

/* A client: our end, and warden's end of the same connection. */
struct tc {
	int	 fd;
	int	 sfd;
	char	*buf;
	size_t	 len;
	bool	 eof;
};

static size_t
nclients(void)
{
	struct client	*c;
	size_t		 n = 0;

	for (c = control_clients(); c != NULL; c = c->next)
		n++;
	return n;
}

static bool
more_clients(void *arg)
{
	return nclients() > *(size_t *)arg;
}

static int
connect_sock(void)
{
	struct sockaddr_un	sun;
	int			fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", conf->socket);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0,
	    "connect %s: %s", conf->socket, strerror(errno));
	return fd;
}

/* Warden accepts the connection: its end is the newest client's. */
static void
tc_accepted(struct tc *t)
{
	size_t	n = nclients();

	ck_assert_msg(pump_until(more_clients, &n, T_STEP), "not accepted");
	t->sfd = control_clients()->fd;
}

static struct tc *
tc_open(void)
{
	struct tc	*t = xcalloc(1, sizeof(*t));

	t->fd = connect_sock();
	tc_accepted(t);
	return t;
}

static void
tc_free(struct tc *t)
{
	close(t->fd);
	free(t->buf);
	free(t);
}

/* Warden's side of the client (NULL: gone). */
static struct client *
server(const struct tc *t)
{
	struct client	*c;

	for (c = control_clients(); c != NULL; c = c->next)
		if (c->fd == t->sfd)
			return c;
	return NULL;
}

static void
tc_send(struct tc *t, const char *text)
{
	ck_assert_int_eq(util_write_all(t->fd, text, strlen(text)), 0);
}

static bool
readable(void *arg)
{
	struct pollfd	pfd = { ((struct tc *)arg)->fd, POLLIN, 0 };

	return poll(&pfd, 1, 0) == 1;
}

/* The next line, decoded; NULL at the end of the stream or after ms. */
static json_t *
tc_line_within(struct tc *t, int ms)
{
	json_error_t	 jerr;
	json_t		*j;
	char		 tmp[65536], *nl;
	ssize_t		 n;
	size_t		 len;

	for (;;) {
		if (t->len > 0 && (nl = memchr(t->buf, '\n', t->len)) != NULL) {
			len = (size_t)(nl - t->buf);
			j = json_loadb(t->buf, len, 0, &jerr);
			ck_assert_msg(j != NULL, "not JSON: %.*s", (int)len,
			    t->buf);
			memmove(t->buf, nl + 1, t->len - len - 1);
			t->len -= len + 1;
			return j;
		}
		if (t->eof || !pump_until(readable, t, ms))
			return NULL;
		n = read(t->fd, tmp, sizeof(tmp));
		ck_assert_msg(n >= 0, "read: %s", strerror(errno));
		if (n == 0) {
			t->eof = true;
			continue;
		}
		t->buf = xreallocarray(t->buf, t->len + (size_t)n, 1);
		memcpy(t->buf + t->len, tmp, (size_t)n);
		t->len += (size_t)n;
	}
}

static json_t *
tc_line(struct tc *t)
{
	json_t	*j = tc_line_within(t, T_STEP);

	ck_assert_msg(j != NULL, "no line (%s)", t->eof ? "closed" : "timeout");
	return j;
}

/* One request and its answer (the next line). */
static json_t *
tc_call(struct tc *t, const char *text)
{
	tc_send(t, text);
	return tc_line(t);
}

static json_int_t
id_of(const json_t *r)
{
	ck_assert_msg(json_is_integer(json_object_get(r, "id")), "no id");
	return json_integer_value(json_object_get(r, "id"));
}

static int
code_of(const json_t *r)
{
	return (int)json_integer_value(json_object_get(json_object_get(r,
	    "error"), "code"));
}

static const char *
message_of(const json_t *r)
{
	json_t		*e = json_object_get(r, "error");
	const char	*m = json_string_value(json_object_get(e, "message"));

	return m != NULL ? m : "";
}

static const char *
kind_of(const json_t *r)
{
	json_t		*e = json_object_get(r, "error");
	json_t		*d = json_object_get(e, "data");
	const char	*k = json_string_value(json_object_get(d, "kind"));

	return k != NULL ? k : "";
}

static void
check_pong(json_t *r, json_int_t id)
{
	ck_assert_msg(json_is_object(r), "no answer");
	ck_assert_int_eq(id_of(r), id);
	ck_assert_str_eq(json_string_value(json_object_get(r, "result")),
	    "pong");
	json_decref(r);
}

static void
check_error(json_t *r, json_int_t id, int code, const char *kind)
{
	ck_assert_msg(code_of(r) == code, "expected %d, got %s", code,
	    json_dumps(r, JSON_COMPACT));
	ck_assert_int_eq(id_of(r), id);
	ck_assert_str_eq(kind_of(r), kind);
}

/* A flag's answer (a wait that held, a flag.set): flag name at value. */
static void
check_flag(const json_t *res, const char *name, bool value)
{
	ck_assert_msg(json_is_object(res), "no flag in the answer");
	ck_assert_str_eq(json_string_value(json_object_get(res, "name")), name);
	ck_assert(json_is_true(json_object_get(res, "value")) == value);
}

/* Set a flag from inside, as no client does. */
static void
set_flag(const char *name, bool value)
{
	json_t	*params, *res = NULL;
	char	 err[512];

	params = json_pack("{s:s,s:b}", "name", name, "value", value);
	ck_assert_msg(flagsvc_write("flag.set", params, 0, getpid(), &res, err,
	    sizeof(err)) == 0, "flag.set %s: %s", name, err);
	json_decref(params);
	json_decref(res);
}

static bool
has_pending(void *arg)
{
	struct client	*c = server(arg);

	return c != NULL && c->npending > 0;
}

static bool
is_mid_line(void *arg)
{
	struct client	*c = server(arg);

	return c != NULL && c->mid_line;
}

/* Paused: its answers fill the output and a line waits behind them. */
static bool
is_held_back(void *arg)
{
	struct client	*c = server(arg);

	return c != NULL && !c->reading && evbuffer_get_length(c->out) > 0 &&
	    evbuffer_get_length(c->in) > 0;
}

static bool
is_eof(void *arg)
{
	struct client	*c = server(arg);

	return c != NULL && c->eof;
}

static void
wait_for(bool (*cond)(void *), struct tc *t, const char *what)
{
	ck_assert_msg(pump_until(cond, t, T_STEP), "never %s", what);
}

static bool
cloexec(int fd)
{
	int	flags = fcntl(fd, F_GETFD);

	ck_assert_msg(flags != -1, "fd %d: %s", fd, strerror(errno));
	return (flags & FD_CLOEXEC) != 0;
}

/* Every fd a description names has close-on-exec as said. */
static void
check_cloexec(const json_t *desc, bool on)
{
	const json_t	*c;
	size_t		 i;

	ck_assert(cloexec((int)json_integer_value(json_object_get(desc,
	    "listen_fd"))) == on);
	json_array_foreach(json_object_get(desc, "clients"), i, c)
		ck_assert_msg(cloexec((int)json_integer_value(json_object_get(c,
		    "fd"))) == on, "client fd close-on-exec should be %s",
		    on ? "on" : "off");
}

/* The description of the client whose fd this is. */
static json_t *
desc_of(json_t *desc, const struct tc *t)
{
	json_t	*c;
	size_t	 i;

	json_array_foreach(json_object_get(desc, "clients"), i, c)
		if (json_integer_value(json_object_get(c, "fd")) == t->sfd)
			return c;
	ck_abort_msg("client fd %d not described", t->sfd);
	return NULL;
}

/* Its first call awaiting an answer. */
static json_t *
call_of(json_t *desc, const struct tc *t)
{
	json_t	*call = json_array_get(json_object_get(json_object_get(
	    desc_of(desc, t), "rpc"), "calls"), 0);

	ck_assert_ptr_nonnull(call);
	return call;
}

/*
 * What an exec does to the in-process objects: the description becomes
 * text; everything is freed, every fd left open; rpc.c starts afresh.
 * between() runs while no image serves (NULL: nothing). Returns the
 * description as the new image reads it, edited by edit() (NULL: none).
 */
static json_t *
handover(void (*between)(void), void (*edit)(json_t *))
{
	json_error_t	 jerr;
	json_t		*desc;
	char		*text;

	ck_assert_ptr_nonnull(desc = control_handover());
	check_cloexec(desc, false);
	ck_assert_ptr_nonnull(text = json_dumps(desc, JSON_COMPACT));
	json_decref(desc);
	control_handover_release();
	rpc_free();
	if (between != NULL)
		between();
	rpc_init(base);
	desc = json_loads(text, 0, &jerr);
	ck_assert_msg(desc != NULL, "the description is not JSON: %s",
	    jerr.text);
	free(text);
	if (edit != NULL)
		edit(desc);
	return desc;
}

static void
adopt(json_t *desc)
{
	char	err[1024];

	ck_assert_msg(control_adopt(base, conf, desc, err, sizeof(err)) == 0,
	    "control_adopt: %s", err);
	check_cloexec(desc, true);
}

/* --- the round trip ------------------------------------------------------- */

#define WAIT_F	"{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"wait\"," \
		"\"params\":{\"condition\":{\"flag\":\"%s\",\"value\":true}," \
		"\"timeout_ms\":60000}}"

static char *
wait_line(int id, const char *flag, const char *prefix, const char *suffix)
{
	char	*s;

	xasprintf(&s, "%s" WAIT_F "%s", prefix, id, flag, suffix);
	return s;
}

static struct tc *
tc_waiting(int id, const char *flag)
{
	struct tc	*t = tc_open();
	char		*line = wait_line(id, flag, "", "\n");

	tc_send(t, line);
	free(line);
	wait_for(has_pending, t, "waiting");
	return t;
}

/* Clients of the round trip, for edit() and between(). */
static struct tc	*t_timeout, *t_past;
static uint64_t		 edited_at;

/* One wait is left 300 ms of its minute, one none at all. */
static void
edit_deadlines(json_t *desc)
{
	edited_at = util_now_ms();
	json_object_set_new(call_of(desc, t_timeout), "deadline_ms",
	    json_integer((json_int_t)edited_at + 300));
	json_object_set_new(call_of(desc, t_past), "deadline_ms",
	    json_integer(1));
}

static void
set_k(void)
{
	set_flag("k", true);
}

/*
 * Waits: one that holds once a client sets f, one whose flag was set
 * while no image ran, one with 300 ms left, one already past, one from a
 * client that has closed its side, and a batch with a member waiting.
 */
START_TEST(test_round_trip_waits)
{
	struct tc	*wf, *wk, *weof, *batch, *z;
	json_t		*desc, *r;
	uint64_t	 t0, took;
	char		*line;

	wf = tc_waiting(1, "f");
	wk = tc_waiting(2, "k");
	t_timeout = tc_waiting(3, "h");
	t_past = tc_waiting(4, "h");
	weof = tc_waiting(5, "f");
	ck_assert_int_eq(shutdown(weof->fd, SHUT_WR), 0);
	wait_for(is_eof, weof, "at its end");
	batch = tc_open();
	line = wait_line(11, "f", "[" PING(10) ",", "]\n");
	tc_send(batch, line);
	free(line);
	wait_for(has_pending, batch, "waiting in a batch");

	desc = handover(set_k, edit_deadlines);
	ck_assert_int_eq(json_array_size(json_object_get(desc, "clients")), 6);
	/* A peer that connects meanwhile waits in the backlog. */
	z = xcalloc(1, sizeof(*z));
	z->fd = connect_sock();
	tc_send(z, PING(1) "\n");
	t0 = util_now_ms();
	adopt(desc);
	json_decref(desc);

	/* Already past: the usual timeout, at once. */
	r = tc_line(t_past);
	check_error(r, 4, RPC_TIMEOUT, "timeout");
	ck_assert_msg(strstr(message_of(r), "60000 ms") != NULL, "%s",
	    message_of(r));
	ck_assert_msg(util_now_ms() - t0 < 250, "a past deadline took %llu ms",
	    (unsigned long long)(util_now_ms() - t0));
	json_decref(r);
	/* k was set while no image ran: tested against the state of now. */
	r = tc_line(wk);
	ck_assert_int_eq(id_of(r), 2);
	check_flag(json_object_get(r, "result"), "k", true);
	json_decref(r);
	/* The peer of the backlog is served, with an id after every other. */
	check_pong(tc_line(z), 1);
	z->sfd = control_clients()->fd;		/* the newest */
	ck_assert_uint_gt(server(z)->id, server(batch)->id);
	ck_assert_uint_gt(server(z)->id, server(wf)->id);

	/* What was left of the minute, not a new one. */
	r = tc_line(t_timeout);
	took = util_now_ms() - edited_at;
	check_error(r, 3, RPC_TIMEOUT, "timeout");
	ck_assert_msg(took >= 290 && took < 5000, "300 ms left took %llu ms",
	    (unsigned long long)took);
	json_decref(r);

	/* f set by a client: the wait, the batch (whole) and the closed one. */
	r = tc_call(z, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"flag.set\","
	    "\"params\":{\"name\":\"f\",\"value\":true}}\n");
	ck_assert_int_eq(id_of(r), 2);
	json_decref(r);
	r = tc_line(wf);
	ck_assert_int_eq(id_of(r), 1);
	check_flag(json_object_get(r, "result"), "f", true);
	json_decref(r);
	r = tc_line(batch);
	ck_assert_msg(json_is_array(r) && json_array_size(r) == 2,
	    "the batch is not answered whole");
	check_pong(json_incref(json_array_get(r, 0)), 10);
	ck_assert_int_eq(id_of(json_array_get(r, 1)), 11);
	check_flag(json_object_get(json_array_get(r, 1), "result"), "f", true);
	json_decref(r);
	r = tc_line(weof);
	ck_assert_int_eq(id_of(r), 5);
	json_decref(r);
	/* Its last answer given, the client that had said all goes. */
	ck_assert_ptr_null(tc_line_within(weof, T_STEP));
	ck_assert(weof->eof);

	tc_free(wf);
	tc_free(wk);
	tc_free(t_timeout);
	tc_free(t_past);
	tc_free(weof);
	tc_free(batch);
	tc_free(z);
}
END_TEST

static struct tc	*t_sub;
static uint64_t		 line_deadline_before;

static void
set_g(void)
{
	set_flag("g", false);
}

/*
 * Bytes: events queued for a subscriber, a partial line, output the
 * socket did not take and a line held back behind it.
 */
START_TEST(test_round_trip_bytes)
{
	struct tc	*sub, *part, *big;
	struct client	*c;
	json_t		*desc, *r, *ev;
	json_int_t	 seq;
	size_t		 i, len;
	char		*text;
	int		 one = 1;

	sub = tc_open();
	r = tc_call(sub, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"subscribe\",\"params\":{\"topics\":[\"flag\"]}}\n");
	seq = json_integer_value(json_object_get(json_object_get(r, "result"),
	    "seq"));
	json_decref(r);

	part = tc_open();
	tc_send(part, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"pi");
	wait_for(is_mid_line, part, "mid-line");

	/* A socket that takes little: the batch's answer cannot all go. */
	big = tc_open();
	ck_assert_int_eq(setsockopt(big->sfd, SOL_SOCKET, SO_SNDBUF, &one,
	    sizeof(one)), 0);
	len = 0;
	text = xmalloc(BATCH_PINGS * 64 + 128);
	text[len++] = '[';
	for (i = 0; i < BATCH_PINGS; i++)
		len += (size_t)sprintf(text + len, "%s{\"jsonrpc\":\"2.0\","
		    "\"id\":%zu,\"method\":\"ping\"}", i > 0 ? "," : "", i + 1);
	len += (size_t)sprintf(text + len, "]\n" PING(9999) "\n");
	tc_send(big, text);
	free(text);
	wait_for(is_held_back, big, "held back");

	/* Queued for the subscriber, not written: no turn of the loop. */
	set_flag("g", true);
	ck_assert_uint_gt(evbuffer_get_length(server(sub)->out), 0);
	line_deadline_before = server(part)->line_deadline;

	t_sub = sub;
	desc = handover(NULL, NULL);
	ck_assert(json_is_true(json_object_get(desc_of(desc, sub),
	    "subscribed")));
	ck_assert(json_is_false(json_object_get(desc_of(desc, big),
	    "reading")));
	adopt(desc);
	json_decref(desc);

	/* The deadline of the partial line is the one it had. */
	ck_assert_ptr_nonnull(c = server(part));
	ck_assert(c->mid_line);
	ck_assert_uint_eq(c->line_deadline, line_deadline_before);

	/* The event that was queued, then the next one. */
	ev = tc_line(sub);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(ev,
	    "params"), "type")), "flag.changed");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(ev,
	    "params"), "seq")), seq + 1);
	json_decref(ev);
	set_g();
	ev = tc_line(sub);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(ev,
	    "params"), "seq")), seq + 2);
	json_decref(ev);

	/* The line completed is served. */
	check_pong(tc_call(part, "ng\"}\n"), 5);

	/* The batch's answer whole, then the line that waited behind it. */
	r = tc_line(big);
	ck_assert_msg(json_is_array(r), "the batch's answer is not an array");
	ck_assert_uint_eq(json_array_size(r), BATCH_PINGS);
	for (i = 0; i < BATCH_PINGS; i++)
		check_pong(json_incref(json_array_get(r, i)),
		    (json_int_t)i + 1);
	json_decref(r);
	check_pong(tc_line(big), 9999);

	tc_free(sub);
	tc_free(part);
	tc_free(big);
}
END_TEST

static struct tc	*t_input;

/* Lines received and not served yet, and a partial one after them. */
static void
edit_input(json_t *desc)
{
	static const char	in[] = PING(7) "\r\n\n" PING(8) "\n"
	    "{\"jsonrpc\":\"2.0\",\"i";
	json_t			*d = desc_of(desc, t_input);

	json_object_set_new(d, "input", desc_b64(in, sizeof(in) - 1));
	json_object_set_new(d, "line_deadline_ms",
	    json_integer((json_int_t)util_now_ms() + 60000));
}

/* Input handed over is served as if just read, once the loop runs. */
START_TEST(test_adopt_serves_input)
{
	json_t	*desc;

	t_input = tc_open();
	desc = handover(NULL, edit_input);
	adopt(desc);
	json_decref(desc);
	ck_assert(!readable(t_input));
	check_pong(tc_line(t_input), 7);
	check_pong(tc_line(t_input), 8);
	check_pong(tc_call(t_input, "d\":9,\"method\":\"ping\"}\n"), 9);
	tc_free(t_input);
}
END_TEST

/* --- reexec calls --------------------------------------------------------- */

static struct tc	*t_reexec;

/* Give the client a reexec call, as m_reexec would have made it. */
static void
add_reexec_call(json_t *desc)
{
	json_t	*rpc = json_object_get(desc_of(desc, t_reexec), "rpc");
	json_t	*calls = json_object_get(rpc, "calls");

	json_array_append_new(calls, json_pack("{s:i,s:s}", "id", 77, "kind",
	    "reexec"));
}

/* The new image answers the reexec call on the same connection. */
START_TEST(test_reexec_done)
{
	json_t	*desc, *result, *r;

	t_reexec = tc_open();
	desc = handover(NULL, add_reexec_call);
	adopt(desc);
	json_decref(desc);
	ck_assert_uint_eq(server(t_reexec)->npending, 1);
	/* It counts as a call awaiting its answer, and it still is. */
	check_pong(tc_call(t_reexec, PING(1) "\n"), 1);
	result = json_pack("{s:i,s:s,s:s,s:s,s:f,s:i,s:i}", "pid",
	    (int)getpid(), "binary", "/usr/bin/warden", "version_before", "0.9",
	    "version", "1.0", "took_ms", 12.5, "workers", 0, "clients", 1);
	rpc_reexec_done(result);
	r = tc_line(t_reexec);
	ck_assert_int_eq(id_of(r), 77);
	ck_assert_msg(json_equal(json_object_get(r, "result"), result),
	    "the result is not the one given");
	json_decref(r);
	json_decref(result);
	ck_assert_uint_eq(server(t_reexec)->npending, 0);
	tc_free(t_reexec);
}
END_TEST

/* A reexec that fails: every waiting call gets the reason. */
START_TEST(test_reexec_failed)
{
	json_t	*desc, *r;

	t_reexec = tc_open();
	desc = handover(NULL, add_reexec_call);
	adopt(desc);
	json_decref(desc);
	rpc_reexec_failed("/usr/bin/warden: not a warden (\xff)");
	r = tc_line(t_reexec);
	check_error(r, 77, RPC_REEXEC_FAILED, "reexec_failed");
	ck_assert_str_eq(message_of(r), "/usr/bin/warden: not a warden (?)");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    json_object_get(r, "error"), "data"), "reason")),
	    "/usr/bin/warden: not a warden (?)");
	json_decref(r);
	ck_assert_uint_eq(server(t_reexec)->npending, 0);
	tc_free(t_reexec);
}
END_TEST

/* --- undone --------------------------------------------------------------- */

/*
 * While handed over nothing is read or accepted; undone, everything goes
 * on: the partial line, the wait, the queued event, a new peer.
 */
START_TEST(test_abort)
{
	struct tc	*wf, *part, *sub, *z;
	struct client	*c;
	json_t		*desc, *r;
	size_t		 n;
	int		 queued;

	wf = tc_waiting(1, "f");
	part = tc_open();
	tc_send(part, "{\"jsonrpc\":\"2.0\",\"id\":5,");
	wait_for(is_mid_line, part, "mid-line");
	sub = tc_open();
	json_decref(tc_call(sub, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"subscribe\"}\n"));
	set_flag("g", true);

	ck_assert_ptr_nonnull(desc = control_handover());
	check_cloexec(desc, false);
	ck_assert_ptr_null(control_handover());	/* once */
	n = nclients();
	z = xcalloc(1, sizeof(*z));
	z->fd = connect_sock();
	tc_send(part, "\"method\":\"ping\"}\n");
	pump_ready();
	/* Not accepted, not read: the bytes wait in the kernel. */
	ck_assert_uint_eq(nclients(), n);
	ck_assert_int_eq(ioctl(part->sfd, FIONREAD, &queued), 0);
	ck_assert_int_gt(queued, 0);
	ck_assert(!readable(sub));

	control_handover_abort();
	check_cloexec(desc, true);
	json_decref(desc);
	check_pong(tc_line(part), 5);
	r = tc_line(sub);
	ck_assert_str_eq(json_string_value(json_object_get(r, "method")),
	    "event");
	json_decref(r);
	ck_assert_msg(pump_until(more_clients, &n, T_STEP), "not accepted");
	r = tc_call(z, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"flag.set\","
	    "\"params\":{\"name\":\"f\",\"value\":true}}\n");
	ck_assert_int_eq(id_of(r), 2);
	json_decref(r);
	r = tc_line(wf);
	check_flag(json_object_get(r, "result"), "f", true);
	json_decref(r);
	ck_assert_ptr_nonnull(c = server(part));
	ck_assert(c->reading);

	tc_free(wf);
	tc_free(part);
	tc_free(sub);
	tc_free(z);
}
END_TEST

/* --- descriptions that are wrong ------------------------------------------ */

/*
 * One change to a good description each: a member removed (value NULL),
 * or set to a JSON text or to one of these fds: $pipe (not a socket),
 * $dgram (a datagram socket), $conn (a connected socket), $listen (the
 * listening one), $closed (no fd at all); $uid1 is a uid not the peer's,
 * $dup a second client on the first one's fd. Path "" is the whole.
 */
#define C0	"clients.0."		/* paths in the first client */
#define CALL0	C0 "rpc.calls.0."	/* ... in its first call */
#define E0	"clients[0]."		/* the same, in messages */
#define EC0	E0 "rpc.calls[0]."

static const struct bad {
	const char	*path;
	const char	*value;
	const char	*expect;
} bad[] = {
	{ "", "[]", "control: must be an object" },
	{ "listen_fd", NULL, "control.listen_fd: missing" },
	{ "listen_fd", "\"5\"", "control.listen_fd: must be an integer" },
	{ "listen_fd", "-1", "control.listen_fd: must be an integer from 0" },
	{ "listen_fd", "$pipe", "is not a socket" },
	{ "listen_fd", "$dgram", "is not a local stream socket" },
	{ "listen_fd", "$conn", "is not listening" },
	{ "listen_fd", "$closed", "Bad file descriptor" },
	{ "path", "\"/elsewhere/w.sock\"", "is bound to" },
	{ "path", "7", "control.path: must be a non-empty string" },
	{ "next_id", "0", "control.next_id: must be" },
	{ "clients", "{}", "control.clients: must be an array" },
	{ "clients.0", "3", "clients[0]: must be an object" },
	{ C0 "fd", NULL, E0 "fd: missing" },
	{ C0 "fd", "-1", E0 "fd: must be an integer" },
	{ C0 "fd", "true", E0 "fd: must be an integer" },
	{ C0 "fd", "$pipe", "is not a socket" },
	{ C0 "fd", "$dgram", "is not a local stream socket" },
	{ C0 "fd", "$listen", "is the listening socket" },
	{ C0 "fd", "$closed", "Bad file descriptor" },
	{ "clients.1", "$dup", "clients[1].fd: fd" },
	{ C0 "id", "0", E0 "id: must be" },
	{ C0 "uid", "$uid1", "has a peer of uid" },
	{ C0 "uid", "\"root\"", E0 "uid: must be" },
	{ C0 "gid", NULL, E0 "gid: missing" },
	{ C0 "pid", "-2", E0 "pid: must be" },
	{ C0 "role", "\"root\"", E0 "role: must be read, operate" },
	{ C0 "role", "2", E0 "role: must be a non-empty string" },
	{ C0 "subscribed", "\"yes\"", E0 "subscribed: must be true" },
	{ C0 "topics", "\"all\"", E0 "topics: must be null or" },
	{ C0 "topics", "[1]", E0 "topics: must be null or" },
	{ C0 "topics", NULL, E0 "topics: missing" },
	{ C0 "dropped", "-1", E0 "dropped: must be" },
	{ C0 "eof", "null", E0 "eof: must be true" },
	{ C0 "reading", NULL, E0 "reading: missing" },
	{ C0 "closing", "true", E0 "close_deadline_ms" },
	{ C0 "close_deadline_ms", "{}", E0 "close_deadline_ms: must" },
	{ C0 "line_deadline_ms", "\"soon\"", E0 "line_deadline_ms" },
	{ C0 "input", "\"@@@@\"", E0 "input: must be a base64" },
	{ C0 "input", "\"abc\"", E0 "input: must be a base64" },
	{ C0 "input", "\"a===\"", E0 "input: must be a base64" },
	{ C0 "output", "5", E0 "output: must be a base64" },
	{ C0 "output", NULL, E0 "output: missing" },
	{ C0 "rpc", NULL, E0 "rpc: missing" },
	{ C0 "rpc", "[]", E0 "rpc: must be an object" },
	{ C0 "rpc.calls", "{}", E0 "rpc.calls: must be an array" },
	{ C0 "rpc.calls", "[]", E0 "rpc.batches[0]: no call" },
	{ C0 "rpc.batches", NULL, E0 "rpc.batches: missing" },
	{ C0 "rpc.batches.0", "\"x\"", E0 "rpc.batches[0]: must" },
	{ C0 "rpc.batches", "[[null]]", E0 "rpc.batches[0]: must" },
	{ C0 "rpc.calls.0", "\"wait\"", E0 "rpc.calls[0]: must be an object" },
	{ CALL0 "id", "{}", EC0 "id: must be" },
	{ CALL0 "kind", NULL, EC0 "kind: missing" },
	{ CALL0 "kind", "\"nap\"", EC0 "kind: must be" },
	{ CALL0 "kind", "\"settle\"", EC0 "service: missing" },
	{ CALL0 "condition", "[]", EC0 "condition: must be an object" },
	{ CALL0 "condition", "{\"flag\":3}", EC0 "condition: 'flag' must be" },
	{ CALL0 "condition", "{\"no\":1}", EC0 "condition: a condition is" },
	{ CALL0 "timeout_ms", "-5", EC0 "timeout_ms: must" },
	{ CALL0 "timeout_ms", NULL, EC0 "timeout_ms: missing" },
	{ CALL0 "deadline_ms", "\"soon\"", EC0 "deadline_ms" },
	{ CALL0 "batch", "7", EC0 "batch: must be" },
	{ CALL0 "batch", NULL, EC0 "batch: missing" },
	{ CALL0 "slot", "0", EC0 "slot: already answered" },
	{ CALL0 "slot", "2", EC0 "slot: must be" },
	{ CALL0 "slot", "\"1\"", EC0 "slot: must be" },
};

static int	fd_pipe = -1, fd_dgram = -1, fd_conn = -1, fd_closed = -1;

static json_t *
bad_value(const struct bad *b, json_t *desc)
{
	json_error_t	 jerr;
	json_t		*v;
	const char	*s = b->value;

	if (strcmp(s, "$pipe") == 0)
		return json_integer(fd_pipe);
	if (strcmp(s, "$dgram") == 0)
		return json_integer(fd_dgram);
	if (strcmp(s, "$conn") == 0)
		return json_integer(fd_conn);
	if (strcmp(s, "$closed") == 0)
		return json_integer(fd_closed);
	if (strcmp(s, "$listen") == 0)
		return json_incref(json_object_get(desc, "listen_fd"));
	if (strcmp(s, "$uid1") == 0)
		return json_integer((json_int_t)getuid() + 1);
	if (strcmp(s, "$dup") == 0)
		return json_deep_copy(json_array_get(json_object_get(desc,
		    "clients"), 0));
	v = json_loads(s, JSON_DECODE_ANY, &jerr);
	ck_assert_msg(v != NULL, "bad JSON in the test: %s", s);
	return v;
}

/* desc with one change; a new reference. */
static json_t *
bad_desc(const struct bad *b, json_t *desc)
{
	json_t	*d = json_deep_copy(desc), *cur = d, *v;
	char	*path, *key, *dot;

	if (b->path[0] == '\0') {
		json_decref(d);
		return bad_value(b, desc);
	}
	path = xstrdup(b->path);
	for (key = path; (dot = strchr(key, '.')) != NULL; key = dot + 1) {
		*dot = '\0';
		cur = json_is_array(cur) ? json_array_get(cur,
		    strtoul(key, NULL, 10)) : json_object_get(cur, key);
		ck_assert_msg(cur != NULL, "%s: not in the description",
		    b->path);
	}
	v = b->value != NULL ? bad_value(b, desc) : NULL;
	if (json_is_array(cur) && v != NULL &&
	    strtoul(key, NULL, 10) == json_array_size(cur))
		ck_assert_int_eq(json_array_append_new(cur, v), 0);
	else if (json_is_array(cur))
		ck_assert_int_eq(json_array_set_new(cur, strtoul(key, NULL, 10),
		    v), 0);
	else if (v != NULL)
		ck_assert_int_eq(json_object_set_new(cur, key, v), 0);
	else
		ck_assert_int_eq(json_object_del(cur, key), 0);
	free(path);
	return d;
}

/*
 * Each wrong description is an error naming what is wrong, leaves nothing
 * behind and closes nothing: the good one is adopted after them all.
 */
START_TEST(test_adopt_bad)
{
	struct tc	*t;
	json_t		*desc, *d, *r;
	char		 err[1024], *line;
	int		 p[2], sp[2];
	size_t		 i;

	t = tc_open();
	line = wait_line(11, "h", "[" PING(10) ",", "]\n");
	tc_send(t, line);
	free(line);
	wait_for(has_pending, t, "waiting in a batch");
	ck_assert_int_eq(pipe(p), 0);
	fd_pipe = p[0];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, sp), 0);
	fd_dgram = sp[0];
	fd_conn = connect_sock();
	ck_assert_int_ne(fd_closed = dup(0), -1);
	close(fd_closed);

	desc = handover(NULL, NULL);
	for (i = 0; i < nitems(bad); i++) {
		d = bad_desc(&bad[i], desc);
		err[0] = '\0';
		ck_assert_msg(control_adopt(base, conf, d, err,
		    sizeof(err)) == -1, "%s = %s: adopted", bad[i].path,
		    bad[i].value);
		ck_assert_msg(strstr(err, bad[i].expect) != NULL,
		    "%s = %s: \"%s\", not \"%s\"", bad[i].path,
		    bad[i].value != NULL ? bad[i].value : "(none)", err,
		    bad[i].expect);
		ck_assert_ptr_null(control_clients());
		json_decref(d);
		/* As a new image would: rpc.c from scratch. */
		rpc_free();
		rpc_init(base);
	}
	adopt(desc);
	json_decref(desc);
	set_flag("h", true);
	r = tc_line(t);
	ck_assert_msg(json_is_array(r) && json_array_size(r) == 2,
	    "the batch is not answered whole");
	check_pong(json_incref(json_array_get(r, 0)), 10);
	check_flag(json_object_get(json_array_get(r, 1), "result"), "h", true);
	json_decref(r);
	check_pong(tc_call(t, PING(12) "\n"), 12);
	close(p[0]);
	close(p[1]);
	close(sp[0]);
	close(sp[1]);
	tc_free(t);
}
END_TEST

/* --- the reexec method ---------------------------------------------------- */

static struct tc	*t_read, *t_operate;

static void
edit_roles(json_t *desc)
{
	json_object_set_new(desc_of(desc, t_read), "role", json_string("read"));
	json_object_set_new(desc_of(desc, t_operate), "role",
	    json_string("operate"));
}

#define REEXEC(params) "{\"jsonrpc\":\"2.0\",\"id\":1," \
	"\"method\":\"reexec\",\"params\":" params "}\n"

/*
 * Its parameters, and its role: an admin's call is taken (and refused
 * here, where no reexec can be under way); a reader's and an operator's
 * are forbidden, before anything else.
 */
START_TEST(test_reexec_method)
{
	static const struct {
		const char	*line;
		const char	*word;	/* the message names it */
	} invalid[] = {
		{ REEXEC("{\"binary\":5}"), "'binary'" },
		{ REEXEC("{\"binary\":null}"), "'binary'" },
		{ REEXEC("{\"binary\":\"\"}"), "'binary'" },
		{ REEXEC("{\"binary\":\"bin/warden\"}"), "'binary'" },
		{ REEXEC("{\"binary\":\"/w\",\"now\":true}"), "'now'" },
		{ REEXEC("[]"), "'params'" },
	};
	struct tc	*admin;
	json_t		*desc, *r;
	size_t		 i;

	admin = tc_open();
	for (i = 0; i < nitems(invalid); i++) {
		r = tc_call(admin, invalid[i].line);
		check_error(r, 1, RPC_INVALID_PARAMS, "invalid_params");
		ck_assert_msg(strstr(message_of(r), invalid[i].word) != NULL,
		    "%s: %s", invalid[i].line, message_of(r));
		json_decref(r);
	}
	/* Refused at once: the file is no binary to run. */
	r = tc_call(admin, REEXEC("{\"binary\":\"/nonexistent/warden\"}"));
	ck_assert_msg(code_of(r) == RPC_INVALID_PARAMS &&
	    strstr(message_of(r), "No such file") != NULL,
	    "reexec of a missing binary: %s", json_dumps(r, JSON_COMPACT));
	ck_assert_int_eq(id_of(r), 1);
	json_decref(r);
	ck_assert_uint_eq(server(admin)->npending, 0);

	t_read = tc_open();
	t_operate = tc_open();
	desc = handover(NULL, edit_roles);
	adopt(desc);
	json_decref(desc);
	r = tc_call(t_read, REEXEC("{\"binary\":\"/nonexistent/warden\"}"));
	check_error(r, 1, RPC_FORBIDDEN, "forbidden");
	ck_assert_str_eq(message_of(r), "reexec needs the admin role");
	json_decref(r);
	/* Forbidden first: invalid params do not give it away. */
	r = tc_call(t_operate, REEXEC("{\"binary\":5}"));
	check_error(r, 1, RPC_FORBIDDEN, "forbidden");
	json_decref(r);
	/* The role went over: ping still works for the reader. */
	check_pong(tc_call(t_read, PING(2) "\n"), 2);
	tc_free(admin);
	tc_free(t_read);
	tc_free(t_operate);
}
END_TEST

static Suite *
handover_suite(void)
{
	Suite	*s = suite_create("handover");
	TCase	*tc = tcase_create("handover");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_round_trip_waits);
	tcase_add_test(tc, test_round_trip_bytes);
	tcase_add_test(tc, test_adopt_serves_input);
	tcase_add_test(tc, test_reexec_done);
	tcase_add_test(tc, test_reexec_failed);
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_adopt_bad);
	tcase_add_test(tc, test_reexec_method);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(handover_suite)
