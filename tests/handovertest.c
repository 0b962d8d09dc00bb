/*
 * handovertest.c: warden set up in the test process, its clients, and the
 * handover as an exec would make it (handovertest.h).
 */
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
#include "handovertest.h"

static char			 dir[PATH_MAX], table[64];
struct event_base		*ho_base;
struct config			*ho_conf;

/*
 * Five flags: f is waited on and set by a client, g makes events for the
 * subscriber, h is never set (waits on it time out), k is set while no
 * image runs, s is the stages' (for the group commit's cases), with a
 * guard that rolls a stage back at the second failure restart. Output is
 * capped low so that a big answer pauses reading.
 */
static const char conf_text[] =
    "{ \"socket\": \"%s/w.sock\", \"state_dir\": \"%s/state\",\n"
    "  \"table\": \"%s\",\n"
    "  \"limits\": { \"max_output_bytes\": 4096 },\n"
    "  \"flags\": { \"f\": {}, \"g\": {}, \"h\": {}, \"k\": {},"
    " \"s\": {} },\n"
    "  \"stages\": [ { \"stage\": 1, \"enable\": [\"s\"] },\n"
    "    { \"stage\": 2, \"enable\": [] } ],\n"
    "  \"guard\": { \"max_restarts\": 1, \"window_s\": 3600,"
    " \"action\": \"rollback\" },\n"
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

void
ho_setup(void)
{
	char	*text, path[PATH_MAX + 16], err[1024];

	ck_assert_msg(signal(SIGPIPE, SIG_IGN) != SIG_ERR, "SIGPIPE");
	snprintf(dir, sizeof(dir), "%s/check_handover.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(table, sizeof(table), "/warden-handover-%ld", (long)getpid());
	xasprintf(&text, conf_text, dir, dir, table);
	snprintf(path, sizeof(path), "%s/warden.json", dir);
	ck_assert_msg(config_parse(text, strlen(text), path, &ho_conf, err,
	    sizeof(err)) == 0, "%s", err);
	free(text);
	ck_assert_ptr_nonnull(ho_base = event_base_new());
	ck_assert_int_eq(control_listen(ho_base, ho_conf), 0);
	ck_assert_msg(flagsvc_init(ho_base, ho_conf, err,
	    sizeof(err)) == 0, "%s", err);
	rpc_init(ho_base);
	tree_init(ho_base, ho_conf);
}

void
ho_teardown(void)
{
	control_shutdown();
	flagsvc_shutdown();
	rpc_free();
	tree_free();
	config_free(ho_conf);
	event_base_free(ho_base);
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
bool
ho_pump_until(bool (*cond)(void *), void *arg, int ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };
	struct event	*t;
	bool		 late = false;

	ck_assert_ptr_nonnull(t = evtimer_new(ho_base, deadline_cb, &late));
	ck_assert_int_eq(evtimer_add(t, &tv), 0);
	while (!cond(arg) && !late)
		ck_assert_int_ne(event_base_loop(ho_base, EVLOOP_ONCE), -1);
	event_free(t);
	return cond(arg);
}

/* Turns of the loop with whatever is ready now, none waiting. */
void
ho_pump_ready(void)
{
	int	i;

	for (i = 0; i < 8; i++)
		ck_assert_int_ne(event_base_loop(ho_base, EVLOOP_NONBLOCK), -1);
}

/* --- clients -------------------------------------------------------------- */

size_t
ho_nclients(void)
{
	struct client	*c;
	size_t		 n = 0;

	for (c = control_clients(); c != NULL; c = c->next)
		n++;
	return n;
}

bool
ho_more_clients(void *arg)
{
	return ho_nclients() > *(size_t *)arg;
}

int
ho_connect_sock(void)
{
	struct sockaddr_un	sun;
	int			fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", ho_conf->socket);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0,
	    "connect %s: %s", ho_conf->socket, strerror(errno));
	return fd;
}

/* Warden accepts the connection: its end is the newest client's. */
static void
tc_accepted(struct tc *t)
{
	size_t	n = ho_nclients();

	ck_assert_msg(ho_pump_until(ho_more_clients, &n, T_STEP),
	    "not accepted");
	t->sfd = control_clients()->fd;
}

struct tc *
tc_open(void)
{
	struct tc	*t = xcalloc(1, sizeof(*t));

	t->fd = ho_connect_sock();
	tc_accepted(t);
	return t;
}

void
tc_free(struct tc *t)
{
	close(t->fd);
	free(t->buf);
	free(t);
}

/* Warden's side of the client (NULL: gone). */
struct client *
ho_server(const struct tc *t)
{
	struct client	*c;

	for (c = control_clients(); c != NULL; c = c->next)
		if (c->fd == t->sfd)
			return c;
	return NULL;
}

void
tc_send(struct tc *t, const char *text)
{
	ck_assert_int_eq(util_write_all(t->fd, text, strlen(text)), 0);
}

bool
ho_readable(void *arg)
{
	struct pollfd	pfd = { ((struct tc *)arg)->fd, POLLIN, 0 };

	return poll(&pfd, 1, 0) == 1;
}

/* The next line, decoded; NULL at the end of the stream or after ms. */
json_t *
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
		if (t->eof || !ho_pump_until(ho_readable, t, ms))
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

json_t *
tc_line(struct tc *t)
{
	json_t	*j = tc_line_within(t, T_STEP);

	ck_assert_msg(j != NULL, "no line (%s)", t->eof ? "closed" : "timeout");
	return j;
}

/* One request and its answer (the next line). */
json_t *
tc_call(struct tc *t, const char *text)
{
	tc_send(t, text);
	return tc_line(t);
}

json_int_t
ho_id_of(const json_t *r)
{
	ck_assert_msg(json_is_integer(json_object_get(r, "id")), "no id");
	return json_integer_value(json_object_get(r, "id"));
}

int
ho_code_of(const json_t *r)
{
	return (int)json_integer_value(json_object_get(json_object_get(r,
	    "error"), "code"));
}

const char *
ho_message_of(const json_t *r)
{
	json_t		*e = json_object_get(r, "error");
	const char	*m = json_string_value(json_object_get(e, "message"));

	return m != NULL ? m : "";
}

const char *
ho_kind_of(const json_t *r)
{
	json_t		*e = json_object_get(r, "error");
	json_t		*d = json_object_get(e, "data");
	const char	*k = json_string_value(json_object_get(d, "kind"));

	return k != NULL ? k : "";
}

void
ho_check_pong(json_t *r, json_int_t id)
{
	ck_assert_msg(json_is_object(r), "no answer");
	ck_assert_int_eq(ho_id_of(r), id);
	ck_assert_str_eq(json_string_value(json_object_get(r, "result")),
	    "pong");
	json_decref(r);
}

void
ho_check_error(json_t *r, json_int_t id, int code, const char *kind)
{
	ck_assert_msg(ho_code_of(r) == code, "expected %d, got %s", code,
	    json_dumps(r, JSON_COMPACT));
	ck_assert_int_eq(ho_id_of(r), id);
	ck_assert_str_eq(ho_kind_of(r), kind);
}

/* A flag's answer (a wait that held, a flag.set): flag name at value. */
void
ho_check_flag(const json_t *res, const char *name, bool value)
{
	ck_assert_msg(json_is_object(res), "no flag in the answer");
	ck_assert_str_eq(json_string_value(json_object_get(res, "name")), name);
	ck_assert(json_is_true(json_object_get(res, "value")) == value);
}

/* Set a flag from inside, as no client does. */
void
ho_set_flag(const char *name, bool value)
{
	json_t	*params, *res = NULL;
	char	 err[512];

	params = json_pack("{s:s,s:b}", "name", name, "value", value);
	ck_assert_msg(flagsvc_write("flag.set", params, 0, getpid(), &res, err,
	    sizeof(err)) == 0, "flag.set %s: %s", name, err);
	json_decref(params);
	json_decref(res);
}

bool
ho_has_pending(void *arg)
{
	struct client	*c = ho_server(arg);

	return c != NULL && c->npending > 0;
}

bool
ho_is_mid_line(void *arg)
{
	struct client	*c = ho_server(arg);

	return c != NULL && c->mid_line;
}

/* Paused: its answers fill the output and a line waits behind them. */
bool
ho_is_held_back(void *arg)
{
	struct client	*c = ho_server(arg);

	return c != NULL && !c->reading && evbuffer_get_length(c->out) > 0 &&
	    evbuffer_get_length(c->in) > 0;
}

bool
ho_is_eof(void *arg)
{
	struct client	*c = ho_server(arg);

	return c != NULL && c->eof;
}

void
ho_wait_for(bool (*cond)(void *), struct tc *t, const char *what)
{
	ck_assert_msg(ho_pump_until(cond, t, T_STEP), "never %s", what);
}

static bool
cloexec(int fd)
{
	int	flags = fcntl(fd, F_GETFD);

	ck_assert_msg(flags != -1, "fd %d: %s", fd, strerror(errno));
	return (flags & FD_CLOEXEC) != 0;
}

/* Every fd a description names has close-on-exec as said. */
void
ho_check_cloexec(const json_t *desc, bool on)
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
json_t *
ho_desc_of(json_t *desc, const struct tc *t)
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
json_t *
ho_call_of(json_t *desc, const struct tc *t)
{
	json_t	*call = json_array_get(json_object_get(json_object_get(
	    ho_desc_of(desc, t), "rpc"), "calls"), 0);

	ck_assert_ptr_nonnull(call);
	return call;
}

/*
 * What an exec does to the in-process objects: the description becomes
 * text; everything is freed, every fd left open; rpc.c starts afresh.
 * between() runs while no image serves (NULL: nothing). Returns the
 * description as the new image reads it, edited by edit() (NULL: none).
 */
json_t *
ho_handover(void (*between)(void), void (*edit)(json_t *))
{
	json_error_t	 jerr;
	json_t		*desc;
	char		*text;

	ck_assert_ptr_nonnull(desc = control_handover());
	ho_check_cloexec(desc, false);
	ck_assert_ptr_nonnull(text = json_dumps(desc, JSON_COMPACT));
	json_decref(desc);
	control_handover_release();
	rpc_free();
	if (between != NULL)
		between();
	rpc_init(ho_base);
	desc = json_loads(text, 0, &jerr);
	ck_assert_msg(desc != NULL, "the description is not JSON: %s",
	    jerr.text);
	free(text);
	if (edit != NULL)
		edit(desc);
	return desc;
}

void
ho_adopt(json_t *desc)
{
	char	err[1024];

	ck_assert_msg(control_adopt(ho_base, ho_conf, desc, err,
	    sizeof(err)) == 0, "control_adopt: %s", err);
	ho_check_cloexec(desc, true);
}

/* --- waits ---------------------------------------------------------------- */

#define WAIT_F	"{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"wait\"," \
		"\"params\":{\"condition\":{\"flag\":\"%s\",\"value\":true}," \
		"\"timeout_ms\":60000}}"

char *
ho_wait_line(int id, const char *flag, const char *prefix, const char *suffix)
{
	char	*s;

	xasprintf(&s, "%s" WAIT_F "%s", prefix, id, flag, suffix);
	return s;
}

struct tc *
tc_waiting(int id, const char *flag)
{
	struct tc	*t = tc_open();
	char		*line = ho_wait_line(id, flag, "", "\n");

	tc_send(t, line);
	free(line);
	ho_wait_for(ho_has_pending, t, "waiting");
	return t;
}
