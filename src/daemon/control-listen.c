/*
 * control-listen.c: the control socket itself, and who connects to it
 * (see control.h): the socket is made and bound with no moment of wider
 * access than asked for, each peer's role is read from its credentials as
 * they were when it connected, and past limits.max_clients a new client
 * gets an error and is closed; on EMFILE accepting pauses for a moment
 * instead of spinning.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "config.h"
#include "control.h"
#include "control-private.h"
#include "log.h"
#include "util.h"

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
	if (control_listed(&control.conf->admin, p))
		return ROLE_ADMIN;
	if (control_listed(&control.conf->operate, p))
		return ROLE_OPERATE;
	return ROLE_READ;
}


/* --- clients coming in ----------------------------------------------------- */

void
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
	c->id = control.next_id++;
	c->fd = fd;
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
	c->next = control.clients;
	control.clients = c;
	control.nclients++;
	if (control_client_events(c) == -1) {
		log_warnx("cannot set up a client");
		control_free(c);
		return;
	}
	control_start_reading(c);
	log_debug("client %llu: uid %ld pid %ld, role %s", (unsigned long long)c->id,
	    (long)c->uid, (long)c->pid, control_role_name(c->role));
	if (control.nclients > (size_t)control.conf->limits.max_clients) {
		char	num[32];

		log_warnx("client %llu: over %d clients, refused",
		    (unsigned long long)c->id, control.conf->limits.max_clients);
		snprintf(num, sizeof(num), "%d", control.conf->limits.max_clients);
		control_reject(c, "too many clients (limit %s)", num);
	}
}

void
control_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	evconnlistener_enable(control.listener);
}

void
control_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct timeval	tv = { 0, 200000 };
	int		err = EVUTIL_SOCKET_ERROR();

	(void)arg;
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		/* Out of fds: pause instead of spinning on a ready listener. */
		log_warnx("accept: %s; pausing new clients", strerror(err));
		evconnlistener_disable(l);
		evtimer_add(control.ev_resume, &tv);
		return;
	}
	if (err != EINTR && err != EAGAIN && err != ECONNABORTED)
		log_warnx("accept: %s", strerror(err));
}

/* Is a warden already answering on this path? */

/* --- the socket ------------------------------------------------------------- */

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

	control.base = b;
	control.conf = c;
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
	/* Not closed with the listener: a reexec keeps it open. */
	control.listener = evconnlistener_new(control.base, control_accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_EXEC, 128, fd);
	if (control.listener == NULL) {
		log_warnx("cannot listen on %s", c->socket);
		close(fd);
		unlink(c->socket);
		return -1;
	}
	control.listen_fd = fd;
	evconnlistener_set_error_cb(control.listener, control_accept_error_cb);
	control.ev_resume = evtimer_new(control.base, control_resume_cb, NULL);
	if (control.ev_resume == NULL)
		fatalx("cannot create the resume timer");
	control.sock_path = xstrdup(c->socket);
	log_info("listening on %s", c->socket);
	return 0;
}

