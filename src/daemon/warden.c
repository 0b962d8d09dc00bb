/*
 * warden.c: the daemon's main: options, signals, the event loop.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "control.h"
#include "flagsvc.h"
#include "fleetd.h"
#include "ledger.h"
#include "log.h"
#include "journald.h"
#include "logfile.h"
#include "metrics-daemon.h"
#include "readysock.h"
#include "repair.h"
#include "reexec.h"
#include "reconfigure.h"
#include "rpc.h"
#include "sdnotify.h"
#include "spawn.h"
#include "strays.h"
#include "tree.h"
#include "util.h"
#include "version.h"

#define WARDEN_DEFAULT_CONFIG	"/etc/warden/warden.json"

static struct event_base	*base;
static int			 exit_status;

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: warden [-nqvV] [-c FILE]\n"
	    "       warden --repair-state [--dry-run] [-c FILE]\n"
	    "       warden --handover-check [-c FILE] < CONFIG-TEXT\n"
	    "  -c FILE   configuration (default %s)\n"
	    "  -n        check the configuration and exit (0: valid, 1: not)\n"
	    "  -q        quieter: warnings and errors only\n"
	    "  -v        more verbose: debug messages too\n"
	    "  -V        print the version and exit\n"
	    "  -h        this help\n"
	    "  --repair-state\n"
	    "            with warden stopped: keep what verifies of the state\n"
	    "            folder, move the rest aside, print what was dropped\n"
	    "  --dry-run, -n\n"
	    "            with --repair-state: only print what it would drop\n"
	    "  --handover-check\n"
	    "            say whether this binary takes a running warden's\n"
	    "            state (wardenctl reexec runs it); the text of the\n"
	    "            configuration in force is read from stdin\n"
	    "See warden(8) and warden.json(5).\n", WARDEN_DEFAULT_CONFIG);
	exit(status);
}

static void
warden_drained(void)
{
	event_base_loopbreak(base);
}

/* Everything is down: the last events and answers go out, then the loop ends. */
static void
warden_exit(int status)
{
	exit_status = status;
	metrics_http_stop();
	sdnotify_stopping();
	control_drain(warden_drained);
}

static void
warden_alarm(int sig)
{
	(void)sig;
}

/*
 * As subreaper warden inherits what its workers forked; their groups got
 * SIGKILL, and strays were stopped with their services. Whatever child is
 * still there now gets SIGKILL (each death may hand warden a grandchild),
 * and is reaped as it dies, for two seconds at most: nothing warden
 * started outlives it, and no zombie is left behind.
 */
static void
warden_reap_leftovers(void)
{
	struct sigaction	sa;
	sigset_t		set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = warden_alarm;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	if (sigaction(SIGALRM, &sa, NULL) == -1 ||
	    sigprocmask(SIG_UNBLOCK, &set, NULL) == -1)
		return;
	alarm(2);
	do
		strays_kill_children();
	while (waitpid(-1, NULL, 0) > 0);
	alarm(0);
}

static void
warden_started(void)
{
	sdnotify_ready();
}

struct warden_count {
	size_t	workers, running, recovering, failed;
};

static int
warden_count_worker(struct node *n, void *arg)
{
	struct warden_count	*c = arg;

	c->workers++;
	if (n->state == SVC_RUNNING)
		c->running++;
	if (n->recovering)
		c->recovering++;
	else if (n->state == SVC_FAILED)
		c->failed++;
	return 0;
}

/* The STATUS= line systemctl status shows: "4 of 4 services running, ...". */
static void
warden_status(char *buf, size_t len)
{
	struct warden_count	 c = { 0, 0, 0, 0 };
	struct node		*root = tree_root();
	char			 failed[64] = "";

	if (root == NULL) {
		snprintf(buf, len, "starting");
		return;
	}
	(void)tree_each_worker(root, warden_count_worker, &c);
	if (c.failed > 0)
		snprintf(failed, sizeof(failed), ", %zu failed", c.failed);
	snprintf(buf, len, "%zu of %zu service%s running, %zu recovering%s, "
	    "stage %d%s", c.running, c.workers, c.workers == 1 ? "" : "s",
	    c.recovering, failed, flagsvc_stage(),
	    flagsvc_table_available() ? "" : ", table unavailable");
}

/*
 * After each round of supervision steps: waiting requests are looked at
 * again, and the service manager hears of a shutdown as it begins (the
 * signal, the shutdown method, or the root supervisor giving up).
 */
static void
warden_changed(void)
{
	struct node	*root = tree_root();

	rpc_recheck();
	reexec_tree_changed();
	if (root != NULL && root->state == SVC_STOPPING &&
	    (root->stop_reason == STOP_SHUTDOWN ||
	    root->stop_reason == STOP_FAILING))
		sdnotify_stopping();
	sdnotify_status_changed();
}

static void
warden_reload(void)
{
	json_t	*result;
	char	 err[1024];

	(void)reconfigure_run("SIGHUP", false, &result, err, sizeof(err));
	json_decref(result);
}

/* SIGUSR2: the binary warden was started from, again (after an upgrade). */
static void
warden_reexec(void)
{
	char	err[1024];

	if (reexec_request(NULL, err, sizeof(err)) < 0)
		log_warnx("SIGUSR2: reexec refused: %s", err);
}

static void
warden_signal(int sig)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		log_info("SIG%s: stopping", util_signal_name(sig));
		sdnotify_stopping();
		tree_shutdown();
		break;
	case SIGHUP:
		warden_reload();
		break;
	case SIGUSR2:
		warden_reexec();
		break;
	}
}

/*
 * Signals arrive on a signalfd: one read for a SIGCHLD, where libevent's
 * own signal handling costs a handler, its write to a socket pair and a
 * read back, on every worker's exit.
 */
static void
warden_signalfd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct signalfd_siginfo	 si[16];
	ssize_t			 n;
	size_t			 i, got;
	bool			 child = false;

	(void)what;
	(void)arg;
	for (;;) {
		n = read(fd, si, sizeof(si));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			if (errno != EAGAIN)
				log_warn("read signalfd");
			break;
		}
		got = (size_t)n / sizeof(si[0]);
		for (i = 0; i < got; i++) {
			if (si[i].ssi_signo == SIGCHLD)
				child = true;
			else
				warden_signal((int)si[i].ssi_signo);
		}
		if (got < nitems(si))
			break;
	}
	/* However many children exited, one pass reaps them all. */
	if (child)
		tree_reap();
}

static int
warden_signals_open(const int *sigs, size_t n)
{
	sigset_t	set;
	size_t		i;
	int		fd;

	sigemptyset(&set);
	for (i = 0; i < n; i++)
		sigaddset(&set, sigs[i]);
	/* Blocked, so that they queue for the fd; workers unblock them. */
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	if ((fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		return -1;
	return fd;
}

/*
 * Start with clean hands: what warden inherited is not passed on. Every fd
 * above 2 is closed (warden uses none it is given: sd_notify goes by the
 * path in NOTIFY_SOCKET, the journal by stderr), every signal inherited as
 * ignored (a background job's SIGINT and SIGQUIT, nohup's SIGHUP) is back
 * to its default, and the mask is empty. So workers, which reset only
 * what warden itself changes, get no more than the documented fds, every
 * disposition at its default, and an empty mask.
 */
static void
warden_clean_start(const json_t *handover)
{
	struct sigaction	sa, dfl;
	struct rlimit		rl;
	sigset_t		none;
	int			fd, max, sig;

	/*
	 * A reexec: what the last image handed over stays open, and the
	 * signals it blocked stay blocked (pending ones queue for our signalfd).
	 */
	if (handover != NULL)
		reexec_close_others(handover);
	else if (syscall(SYS_close_range, 3U, ~0U, 0U) == -1) {
		max = 65536;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)max)
			max = (int)rl.rlim_cur;
		for (fd = 3; fd < max; fd++)
			(void)close(fd);
	}
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		/* Real-time signals glibc keeps for itself say EINVAL. */
		if (sigaction(sig, NULL, &sa) == -1)
			continue;
		if (sa.sa_handler == SIG_IGN && sigaction(sig, &dfl, NULL) == -1)
			fatal("sigaction(SIG%s)", util_signal_name(sig));
	}
	sigemptyset(&none);
	if (handover == NULL && sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		fatal("sigprocmask");
}

/* Room for a thousand workers' pipes: the soft fd limit up to the hard one. */
static void
warden_raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit(RLIMIT_NOFILE)");
	}
}

/* Precise timers: a backoff of 80 ms is not over after 76 (the coarse clock's tick). */
static struct event_base *
warden_event_base(void)
{
	struct event_config	*cfg = event_config_new();
	struct event_base	*b;

	if (cfg == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	b = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return b;
}

enum { OPT_REPAIR = 256, OPT_DRY_RUN, OPT_HANDOVER, OPT_HANDOVER_CHECK };

static const struct option	warden_longopts[] = {
	{ "repair-state",	no_argument,		NULL,	OPT_REPAIR },
	{ "dry-run",		no_argument,		NULL,	OPT_DRY_RUN },
	{ "handover",		required_argument,	NULL,	OPT_HANDOVER },
	{ "handover-check",	no_argument,		NULL,	OPT_HANDOVER_CHECK },
	{ NULL,			0,			NULL,	0 }
};

/*
 * warden --handover-check: may this binary take over a running warden? It
 * must read the configuration in force (its text on stdin, named FILE)
 * and take this handover version; the last line says which it takes.
 */
static int
warden_handover_check(const char *file)
{
	struct config	*conf;
	char		 err[1024], *text;
	size_t		 len;

	if (util_read_fd(0, CONFIG_FILE_MAX, &text, &len) == -1) {
		printf("warden: stdin: %s\n", strerror(errno));
		return 1;
	}
	/* The env files come with the handover: the text alone is checked. */
	if (config_parse_handover(text, len, file, NULL, &conf, err,
	    sizeof(err)) == -1) {
		printf("warden %s cannot take the configuration in force: %s\n",
		    WARDEN_VERSION, err);
		free(text);
		return 1;
	}
	config_free(conf);
	free(text);
	printf("%s %d (warden %s)\n", REEXEC_HANDOVER_MAGIC,
	    REEXEC_HANDOVER_VERSION, WARDEN_VERSION);
	return fflush(stdout) == EOF ? 1 : 0;
}

/* The configuration a reexec hands over: the text in force, not the file's. */
static struct config *
warden_handover_config(const json_t *handover)
{
	struct config	*conf;
	const char	*path, *text;
	size_t		 len;
	char		 err[1024];
	json_t		*env_files = NULL;

	if (json_unpack((json_t *)handover, "{s:{s:s,s:s%,s?o}}", "config",
	    "path", &path, "text", &text, &len, "env_files", &env_files) == -1) {
		log_warnx("handover: no configuration");
		return NULL;
	}
	/* An earlier warden hands over none: it had no env_file key. */
	if (env_files == NULL)
		env_files = json_object();
	else
		json_incref(env_files);
	if (config_parse_handover(text, len, path, env_files, &conf, err,
	    sizeof(err)) == -1) {
		json_decref(env_files);
		log_warnx("handover: %s", err);
		return NULL;
	}
	json_decref(env_files);
	return conf;
}

/*
 * The ledger (a fresh start stops what an earlier warden left in it; a
 * reexec takes it as it is), the methods and the tree, with its callbacks.
 */
static void
warden_build(struct config *conf)
{
	char	err[1024];

	if (ledger_open(conf->state_dir, err, sizeof(err)) == -1)
		log_warnx("%s: workers left by a warden that dies will not be "
		    "found by the next", err);
	rpc_init(base);
	tree_init(base, conf);
	tree_on_exit(warden_exit);
	tree_on_started(warden_started);
	tree_on_change(warden_changed);
}

/*
 * The next image of a reexec takes everything over: the state folder's
 * lock and the table, the ledger, the workers, the control socket and its
 * clients. Nothing is started, nothing stopped.
 */
static int
warden_adopt(struct config *conf, json_t *handover)
{
	char	err[1024];

	if (flagsvc_adopt(json_object_get(handover, "flags"), err,
	    sizeof(err)) == -1 || ledger_adopt(json_object_get(handover,
	    "ledger"), err, sizeof(err)) == -1 ||
	    readysock_adopt(json_object_get(handover, "notify"), err,
	    sizeof(err)) == -1)
		goto fail;
	log_debug("reexec: taking over the state");
	if (flagsvc_init(base, conf, err, sizeof(err)) == -1)
		goto fail;
	log_debug("reexec: taking over the tree");
	warden_build(conf);
	log_debug("reexec: tree built");
	if (tree_adopt(json_object_get(handover, "tree"), err, sizeof(err)) == -1)
		goto fail;
	log_debug("reexec: workers taken over");
	if (control_adopt(base, conf, json_object_get(handover, "control"), err,
	    sizeof(err)) == -1 || metrics_http_adopt(base, conf,
	    json_object_get(handover, "metrics"), err, sizeof(err)) == -1 ||
	    fleetd_start(base, conf, json_object_get(handover, "fleet"), err,
	    sizeof(err)) == -1)
		goto fail;
	reexec_cloexec_all(handover);
	reexec_done(handover);
	return 0;
fail:
	log_warnx("reexec: cannot take over: %s", err);
	return -1;
}

/* warden --repair-state: nothing else starts. */
static int
warden_repair(const char *file, bool dry_run)
{
	struct config	*conf;
	char		 err[1024];
	int		 rc;

	if (config_load(file, &conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "warden: %s\n", err);
		return 1;
	}
	rc = repair_state(conf, dry_run, stdout, err, sizeof(err));
	if (fflush(stdout) == EOF && rc == 0)
		snprintf(err, sizeof(err), "stdout: %s", strerror(errno));
	if (rc == -1 || ferror(stdout))
		fprintf(stderr, "warden: %s\n", err);
	config_free(conf);
	return rc == -1 || ferror(stdout) ? 1 : 0;
}

/* A fresh start: the socket, the state, the ledger, then the tree. */
static int
warden_start(struct config *conf)
{
	char	err[1024];

	/* The socket first: a second warden started by mistake stops there, before it touches the table. */
	if (control_listen(base, conf) == -1)
		return -1;
	if (metrics_http_start(base, conf, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		control_shutdown();
		return -1;
	}
	if (flagsvc_init(base, conf, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		flagsvc_shutdown();
		metrics_http_stop();
		control_shutdown();
		return -1;
	}
	if (fleetd_start(base, conf, NULL, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		flagsvc_shutdown();
		metrics_http_stop();
		control_shutdown();
		return -1;
	}
	/* What an earlier warden left running on this state_dir goes first. */
	warden_build(conf);
	log_info("warden %s starting with %s", WARDEN_VERSION, conf->path);
	tree_start();
	return 0;
}

int
main(int argc, char **argv)
{
	static const int	 sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR2 };
	struct event		*ev_signals;
	int			 sigfd, handover_fd = -1;
	const char		*file = WARDEN_DEFAULT_CONFIG;
	struct config		*conf;
	json_t			*handover = NULL;
	char			 err[1024], *end;
	int			 ch, check = 0, verbosity = LOG_LEVEL_INFO;
	bool			 repair = false, dry_run = false, hcheck = false;
	long			 l;

	log_init("warden", verbosity);
	while ((ch = getopt_long(argc, argv, "c:hnqvV", warden_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case OPT_REPAIR:
			repair = true;
			break;
		case OPT_DRY_RUN:
			dry_run = true;
			break;
		case OPT_HANDOVER:
			errno = 0;
			l = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || l < 3 || l > INT_MAX)
				usage(2);
			handover_fd = (int)l;
			break;
		case OPT_HANDOVER_CHECK:
			hcheck = true;
			break;
		case 'c':
			file = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'q':
			verbosity = LOG_LEVEL_WARNING;
			break;
		case 'v':
			verbosity = LOG_LEVEL_DEBUG;
			break;
		case 'V':
			printf("warden %s (protocol %d)\n", WARDEN_VERSION, RPC_PROTOCOL_VERSION);
			return 0;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc || (dry_run && !repair) ||
	    (repair + hcheck + (handover_fd != -1)) > 1)
		usage(2);
	log_setverbose(verbosity);
	if (repair)
		return warden_repair(file, dry_run || check);
	if (hcheck)
		return warden_handover_check(file);

	if (handover_fd != -1) {
		log_debug("reexec: new image running");
		if ((handover = reexec_read(handover_fd, err, sizeof(err))) == NULL) {
			log_warnx("reexec: %s", err);
			return 1;
		}
		log_debug("reexec: handover read");
		if ((conf = warden_handover_config(handover)) == NULL) {
			json_decref(handover);
			return 1;
		}
		log_debug("reexec: configuration taken");
	} else if (config_load(file, &conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "warden: %s\n", err);
		return 1;
	}
	if (check) {
		printf("%s: ok\n", file);
		config_free(conf);
		return 0;
	}

	warden_clean_start(handover);
	if (handover != NULL)
		sdnotify_adopt(json_object_get(handover, "sdnotify"));
	sdnotify_init();
	spawn_init();
	(void)journald_open();
	warden_raise_nofile();
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fatal("signal(SIGPIPE)");
	if ((base = warden_event_base()) == NULL)
		fatalx("cannot create the event loop");
	if ((sigfd = warden_signals_open(sigs, nitems(sigs))) == -1)
		fatal("signalfd");
	ev_signals = event_new(base, sigfd, EV_READ | EV_PERSIST,
	    warden_signalfd_cb, NULL);
	if (ev_signals == NULL || event_add(ev_signals, NULL) == -1)
		fatalx("cannot watch signals");
	/* Fed once now, then by the loop: a loop that hangs starves it. */
	if (sdnotify_start(base, warden_status) == -1)
		fatalx("cannot set the sd_notify timers");
	reexec_init(base);
	if (handover != NULL) {
		if (warden_adopt(conf, handover) == -1)
			return 1;
		json_decref(handover);
		handover = NULL;
	} else if (warden_start(conf) == -1) {
		config_free(conf);
		return 1;
	}

	if (event_base_dispatch(base) == -1)
		fatalx("event loop failed");

	sdnotify_stop();
	metrics_http_stop();
	fleetd_stop();
	/* The last turn's changes commit while their clients are still here. */
	flagsvc_flush();
	control_shutdown();
	warden_reap_leftovers();
	flagsvc_shutdown();
	rpc_free();
	reexec_free();
	conf = tree_config();
	tree_free();
	/* The services' last lines reach their files, 2 s at most. */
	logfile_shutdown(2000);
	ledger_close();
	spawn_free();
	config_free(conf);
	event_free(ev_signals);
	close(sigfd);
	event_base_free(base);
	log_info("exiting with status %d", exit_status);
	return exit_status;
}
