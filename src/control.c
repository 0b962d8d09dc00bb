/*
 * control.c: the control socket (see control.h).
 *
 * Nothing a client does can stall the loop: input is read as it comes and
 * cut into lines, a line over limits.max_line_bytes or a client idle
 * mid-line for limits.idle_ms gets an error and is closed, a client that
 * does not read its answers stops being read (backpressure) and a
 * subscriber that does not read its events is dropped. Past
 * limits.max_clients a new client gets an error and is closed; on EMFILE
 * accepting pauses for a moment instead of spinning. The limits come from
 * warden.json (see warden.json(5)), with the defaults of SPEC 5.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "config.h"
#include "control.h"
#include "log.h"
#include "rpc.h"
#include "util.h"

static struct event_base	*base;
static const struct config	*conf;
static struct evconnlistener	*listener;
static struct event		*ev_resume;
static void			(*drained_cb)(void);
static struct client		*clients;
static size_t			 nclients;
static uint64_t			 next_id = 1;
static char			*sock_path;

const char *
control_role_name(enum role r)
{
	switch (r) {
	case ROLE_READ:
		return "read";
	case ROLE_OPERATE:
		return "operate";
	case ROLE_ADMIN:
		return "admin";
	}
	return "?";
}

struct client *
control_clients(void)
{
	return clients;
}

/* --- roles ------------------------------------------------------------------ */

/*
 * The peer's groups as they were when it connected: SO_PEERGROUPS (Linux
 * 4.13) records them with the connection, so a peer that exits and whose
 * pid is reused cannot lend us another process's groups, as reading
 * /proc/PID/status at accept time could.
 */
struct peer {
	uid_t	 uid;
	gid_t	 gid;
	gid_t	*groups;
	size_t	 ngroups;
};

static void
control_peer_groups(int fd, struct peer *p)
{
	socklen_t	len = 32 * sizeof(gid_t);

	p->groups = NULL;
	p->ngroups = 0;
	for (;;) {
		p->groups = xreallocarray(p->groups, len / sizeof(gid_t) + 1,
		    sizeof(gid_t));
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, p->groups, &len) == 0) {
			p->ngroups = len / sizeof(gid_t);
			return;
		}
		if (errno != ERANGE)
			break;
	}
	/* No SO_PEERGROUPS: the primary group alone decides. */
	log_debug("SO_PEERGROUPS: %s; supplementary groups not considered",
	    strerror(errno));
	p->ngroups = 0;
}

static bool
control_peer_in_group(const struct peer *p, gid_t want)
{
	size_t	i;

	if (p->gid == want)
		return true;
	for (i = 0; i < p->ngroups; i++)
		if (p->groups[i] == want)
			return true;
	return false;
}

static bool
control_listed(const struct access_list *a, const struct peer *p)
{
	struct group	*gr;
	size_t		 i;

	for (i = 0; i < a->nuids; i++)
		if (a->uids[i] == p->uid)
			return true;
	for (i = 0; i < a->ngroups; i++) {
		if ((gr = getgrnam(a->groups[i])) == NULL)
			continue;
		if (control_peer_in_group(p, gr->gr_gid))
			return true;
	}
	return false;
}

static enum role
control_peer_role(const struct peer *p)
{
	if (p->uid == 0 || p->uid == geteuid())
		return ROLE_ADMIN;
	if (control_listed(&conf->admin, p))
		return ROLE_ADMIN;
	if (control_listed(&conf->operate, p))
		return ROLE_OPERATE;
	return ROLE_READ;
}

/* --- clients ------------------------------------------------------------------ */

static void
control_free(struct client *c)
{
	struct client	**pp;

	for (pp = &clients; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	nclients--;
	rpc_client_gone(c);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	if (c->ev_close != NULL)
		event_free(c->ev_close);
	json_decref(c->topics);
	free(c);
	if (drained_cb != NULL && clients == NULL) {
		void	(*cb)(void) = drained_cb;

		drained_cb = NULL;
		cb();
		return;
	}
	/* A slot is free again: accept if we had paused for the limit. */
	if (listener != NULL && ev_resume != NULL && !evtimer_pending(ev_resume, NULL))
		evconnlistener_enable(listener);
}

static void
control_close_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	control_free(arg);
}

static void
control_drained_cb(struct bufferevent *bev, void *arg)
{
	struct client	*c = arg;

	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			control_free(c);
		return;
	}
	/* Under the low-water mark again: read the client's requests again. */
	bufferevent_enable(bev, EV_READ);
}

void
control_close(struct client *c)
{
	struct timeval	tv = { 1, 0 };

	if (c->closing)
		return;
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	/* Free once the output is gone, or after a second if the peer does not read. */
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		tv.tv_sec = 0;
	if (c->ev_close == NULL)
		c->ev_close = evtimer_new(base, control_close_cb, c);
	if (c->ev_close == NULL || evtimer_add(c->ev_close, &tv) == -1)
		fatalx("cannot arm a close timer");
}

static void
control_queue(struct client *c, json_t *msg)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	char		*s;

	s = json_dumps(msg, JSON_COMPACT);
	if (s == NULL) {
		log_warnx("client %llu: cannot encode a response",
		    (unsigned long long)c->id);
		return;
	}
	if (evbuffer_add(out, s, strlen(s)) == -1 || evbuffer_add(out, "\n", 1) == -1)
		log_warnx("client %llu: out of memory for output",
		    (unsigned long long)c->id);
	free(s);
}

void
control_send(struct client *c, json_t *msg)
{
	if (c->closing)
		return;
	control_queue(c, msg);
	/* A client that sends and never reads stops being read, not served forever. */
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > (size_t)conf->limits.max_output_bytes)
		bufferevent_disable(c->bev, EV_READ);
}

void
control_send_event(struct client *c, json_t *event)
{
	json_t	*note, *params;

	if (c->closing)
		return;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > (size_t)conf->limits.subscriber_queue_bytes) {
		/* Too slow: one events.dropped, then the door. */
		params = json_pack("{s:s,s:I,s:I}", "type", "events.dropped",
		    "dropped", (json_int_t)1,
		    "seq", json_integer_value(json_object_get(event, "seq")));
		note = json_pack("{s:s,s:s,s:o}", "jsonrpc", "2.0", "method", "event",
		    "params", params);
		control_queue(c, note);
		json_decref(note);
		log_warnx("client %llu (pid %ld): too slow to read events, disconnected",
		    (unsigned long long)c->id, (long)c->pid);
		control_close(c);
		return;
	}
	note = json_pack("{s:s,s:s,s:O}", "jsonrpc", "2.0", "method", "event",
	    "params", event);
	control_queue(c, note);
	json_decref(note);
}

static void
control_reject(struct client *c, const char *fmt, const char *what)
{
	json_t	*err;

	err = rpc_error_response(NULL, RPC_INVALID_REQUEST, fmt, what);
	control_send(c, err);
	json_decref(err);
	control_close(c);
}

static void
control_read_cb(struct bufferevent *bev, void *arg)
{
	struct client		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 eol;
	size_t			 eol_len, len;
	char			*line;
	struct timeval		 idle = { conf->limits.idle_ms / 1000,
				    (conf->limits.idle_ms % 1000) * 1000 };
	char			 num[32];

	while (!c->closing) {
		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		if (eol.pos == -1)
			break;
		len = (size_t)eol.pos;
		if (len > (size_t)conf->limits.max_line_bytes) {
			snprintf(num, sizeof(num), "%d", conf->limits.max_line_bytes);
			control_reject(c, "request line over %s bytes", num);
			return;
		}
		line = xmalloc(len + 1);
		if (evbuffer_remove(in, line, len) != (int)len)
			fatalx("evbuffer_remove");
		line[len] = '\0';
		evbuffer_drain(in, eol_len);
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len > 0)
			rpc_handle(c, line, len);
		free(line);
		/* Answers piling up unread: stop here, the rest waits for the drain. */
		if (evbuffer_get_length(bufferevent_get_output(bev)) > (size_t)conf->limits.max_output_bytes) {
			bufferevent_disable(bev, EV_READ);
			break;
		}
	}
	if (c->closing)
		return;
	len = evbuffer_get_length(in);
	if (len > (size_t)conf->limits.max_line_bytes) {
		snprintf(num, sizeof(num), "%d", conf->limits.max_line_bytes);
		control_reject(c, "request line over %s bytes", num);
		return;
	}
	/* The idle limit applies only to a client that stopped mid-line. */
	bufferevent_set_timeouts(bev, len > 0 ? &idle : NULL, NULL);
}

static void
control_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct client	*c = arg;
	char		 num[32];

	if ((what & BEV_EVENT_EOF) != 0 && !c->closing && rpc_client_busy(c)) {
		/* Half-closed with answers still due (a wait, say): send them first. */
		c->eof = true;
		bufferevent_disable(bev, EV_READ);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) != 0 && !c->closing) {
		snprintf(num, sizeof(num), "%d", conf->limits.idle_ms);
		control_reject(c, "idle for %s ms in the middle of a request", num);
		return;
	}
	if ((what & BEV_EVENT_ERROR) != 0 && errno != ECONNRESET && errno != EPIPE)
		log_debug("client %llu: %s", (unsigned long long)c->id, strerror(errno));
	control_free(c);
}

static void
control_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct client	*c;
	struct ucred	 uc;
	struct peer	 peer;
	socklen_t	 uclen = sizeof(uc);

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	c = xcalloc(1, sizeof(*c));
	c->id = next_id++;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &uclen) == -1) {
		log_warn("SO_PEERCRED");
		uc.uid = (uid_t)-1;
		uc.gid = (gid_t)-1;
		uc.pid = 0;
	}
	c->uid = uc.uid;
	c->gid = uc.gid;
	c->pid = uc.pid;
	peer.uid = c->uid;
	peer.gid = c->gid;
	control_peer_groups(fd, &peer);
	c->role = control_peer_role(&peer);
	free(peer.groups);
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warnx("cannot set up a client");
		close(fd);
		free(c);
		return;
	}
	c->next = clients;
	clients = c;
	nclients++;
	bufferevent_setcb(c->bev, control_read_cb, control_drained_cb,
	    control_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, (size_t)conf->limits.max_output_bytes / 2, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	log_debug("client %llu: uid %ld pid %ld, role %s", (unsigned long long)c->id,
	    (long)c->uid, (long)c->pid, control_role_name(c->role));
	if (nclients > (size_t)conf->limits.max_clients) {
		char	num[32];

		log_warnx("client %llu: over %d clients, refused",
		    (unsigned long long)c->id, conf->limits.max_clients);
		snprintf(num, sizeof(num), "%d", conf->limits.max_clients);
		control_reject(c, "too many clients (limit %s)", num);
	}
}

static void
control_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	evconnlistener_enable(listener);
}

static void
control_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct timeval	tv = { 0, 200000 };
	int		err = EVUTIL_SOCKET_ERROR();

	(void)arg;
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		/* Out of fds: pause instead of spinning on a ready listener. */
		log_warnx("accept: %s; pausing new clients", strerror(err));
		evconnlistener_disable(l);
		evtimer_add(ev_resume, &tv);
		return;
	}
	if (err != EINTR && err != EAGAIN && err != ECONNABORTED)
		log_warnx("accept: %s", strerror(err));
}

/* Is a warden already answering on this path? */
static bool
control_socket_live(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return false;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return r == 0;
}

/* The socket's folder, when it does not exist yet (one level, mode 0755). */
static int
control_make_folder(const char *path)
{
	char	*dir = xstrdup(path), *slash = strrchr(dir, '/');
	int	 r = 0;

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			log_warn("mkdir %s", dir);
			r = -1;
		}
	}
	free(dir);
	return r;
}

int
control_listen(struct event_base *b, const struct config *c)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 old;
	int			 fd;

	base = b;
	conf = c;
	if (strlen(c->socket) >= sizeof(sun.sun_path)) {
		log_warnx("socket path %s: longer than %zu bytes", c->socket,
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
	if (control_make_folder(c->socket) == -1)
		return -1;
	if (lstat(c->socket, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("%s: exists and is not a socket", c->socket);
			return -1;
		}
		if (control_socket_live(c->socket)) {
			log_warnx("%s: another warden is answering there", c->socket);
			return -1;
		}
		/* A stale socket of a warden that is gone. */
		if (unlink(c->socket) == -1) {
			log_warn("unlink %s", c->socket);
			return -1;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		log_warn("socket");
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, c->socket, strlen(c->socket));
	/* Never a moment with wider access than asked for. */
	old = umask(0777 & ~c->socket_mode);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		log_warn("bind %s", c->socket);
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(c->socket, c->socket_mode) == -1)
		log_warn("chmod %s", c->socket);
	listener = evconnlistener_new(base, control_accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128, fd);
	if (listener == NULL) {
		log_warnx("cannot listen on %s", c->socket);
		close(fd);
		unlink(c->socket);
		return -1;
	}
	evconnlistener_set_error_cb(listener, control_accept_error_cb);
	ev_resume = evtimer_new(base, control_resume_cb, NULL);
	if (ev_resume == NULL)
		fatalx("cannot create the resume timer");
	sock_path = xstrdup(c->socket);
	log_info("listening on %s", c->socket);
	return 0;
}

void
control_drain(void (*done)(void))
{
	struct client	*c, *next;

	if (listener != NULL)
		evconnlistener_disable(listener);
	if (ev_resume != NULL)
		evtimer_del(ev_resume);
	if (clients == NULL) {
		done();
		return;
	}
	drained_cb = done;
	for (c = clients; c != NULL; c = next) {
		next = c->next;
		control_close(c);
	}
}

void
control_set_config(const struct config *c)
{
	conf = c;
}

void
control_shutdown(void)
{
	struct client	*c;

	drained_cb = NULL;
	while ((c = clients) != NULL)
		control_free(c);
	if (listener != NULL)
		evconnlistener_free(listener);
	listener = NULL;
	if (ev_resume != NULL)
		event_free(ev_resume);
	ev_resume = NULL;
	if (sock_path != NULL && unlink(sock_path) == -1 && errno != ENOENT)
		log_warn("unlink %s", sock_path);
	free(sock_path);
	sock_path = NULL;
}
