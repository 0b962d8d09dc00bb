/*
 * harness.h: run the real warden binary from integration tests.
 *
 * Binaries come from $WARDEN_BIN_DIR (make check sets it), else from the
 * folder above the test program's own (bin/tests/check_x -> bin). Each
 * harness gets a fresh temp folder DIR (mkdtemp under $TMPDIR or /tmp)
 * holding warden.json, warden.log (warden's stdout and stderr) and the
 * sd_notify socket warden reports READY=1 on.
 *
 * warden does not run as the test's child but as the child of a small
 * keeper process in its own session. Check kills a test's process group
 * when the test ends and leaves with _exit() when an assertion fails, so no
 * cleanup code of the test runs then; the keeper notices the test is gone,
 * prints the tail of warden.log, stops warden, kills whatever it left behind
 * and removes DIR. It is also the nearest subreaper for warden's tree, so
 * processes warden leaves behind are reaped and counted (h->leftovers)
 * instead of piling up as zombies.
 *
 * Nothing here sleeps to wait: every wait is poll(2) on the fd that proves
 * the event (the notify socket, the control socket, inotify, a pidfd), with
 * a deadline that only bounds a failure. Failures are reported on stderr
 * with "harness:" and returned (-1 or NULL); the harness never aborts the
 * test by itself, so tests assert on the return values.
 *
 * Config text given to harness_start() and friends may use:
 *   @WORKER@  absolute path of tests/test-worker; when some user could
 *             not run the built one (a checkout in a 0700 home, run as
 *             root), a copy in DIR, so that a worker with "user": "nobody"
 *             can run it once the test opens DIR to that user
 *             (chmod 0755, as it must anyway for the files it writes)
 *   @BIN@     the binaries folder (e.g. "@BIN@/demo-worker")
 *   @DIR@     the temp folder
 * Values are inserted as they are (no JSON escaping; paths need none).
 * When the text is a JSON object without "socket", "state_dir" or "table",
 * the harness adds "socket": "warden.sock", "state_dir": "state" and a
 * table name unique to the test right after the opening brace, on the first
 * line, so line numbers in warden's error messages stay those of the text.
 */
#ifndef WARDEN_TESTS_HARNESS_H
#define WARDEN_TESTS_HARNESS_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

/* Deadlines, in milliseconds. */
#define HARNESS_START_TIMEOUT	10000	/* READY=1 after start */
#define HARNESS_CALL_TIMEOUT	10000	/* one request's answer */
#define HARNESS_STOP_TIMEOUT	15000	/* exit after "shutdown", then SIGKILL */
#define HARNESS_ENV_MAX		8	/* variables harness_setenv() can add */

struct harness {
	char		 dir[PATH_MAX];		/* the temp folder, "" when none */
	char		 config[PATH_MAX];	/* DIR/warden.json */
	char		 log[PATH_MAX];		/* DIR/warden.log */
	char		 sock[PATH_MAX];	/* warden's control socket */
	char		 notify_path[PATH_MAX];	/* DIR/notify.sock */
	char		 bindir[PATH_MAX];	/* warden, wardenctl, tests/... */
	char		 worker[PATH_MAX];	/* what @WORKER@ stands for */
	char		 table[256];		/* the config's "table", or "" */
	char		 injected_table[64];	/* used when the text has none */
	pid_t		 pid;			/* warden, -1 when not running */
	int		 notify_fd;		/* our end of NOTIFY_SOCKET */
	int		 keeper_fd;		/* socket to the keeper, -1 */
	pid_t		 keeper_pid;
	int		 status;		/* last exit status, -1: none yet */
	int		 leftovers;		/* processes warden left behind */
	long long	 next_id;		/* JSON-RPC ids */
	off_t		 log_mark;		/* see harness_log_mark() */
	/*
	 * Set before the first start. dirty_start: warden inherits what a
	 * careless parent leaves, fd 3 open on DIR/inherited without
	 * close-on-exec, SIGINT, SIGQUIT and SIGHUP ignored, SIGUSR1,
	 * SIGUSR2 and SIGWINCH blocked. keep_orphans: when warden dies by a
	 * signal, the keeper leaves what was reparented to it running (and
	 * reaps it as it exits), so that a test sees what warden's death
	 * did to its workers; harness_stop() and harness_cleanup() still
	 * kill it.
	 */
	bool		 dirty_start;
	bool		 keep_orphans;
};

/* A line-oriented connection to warden's control socket. */
struct harness_conn {
	int		 fd;
	char		*buf;		/* bytes read, not yet returned */
	size_t		 len, cap;
	json_t		*queue;		/* events read early (subscribe) */
	long long	 next_id;
	long long	 seq;		/* the "seq" of the subscribe answer */
	bool		 eof;
};

/*
 * Life cycle. harness_start() = harness_prepare() + harness_launch();
 * harness_stop() asks warden to shut down, waits (SIGKILL after
 * HARNESS_STOP_TIMEOUT), cleans up, and returns the exit status: the exit
 * code, 128 + the signal, or -1 when warden never ran. It may be called in
 * any state and more than once. harness_cleanup() is the same without the
 * polite part: warden gets SIGTERM, SIGKILL 5 s later. Both remove DIR
 * unless $WARDEN_KEEP_TMP is set, and fill h->leftovers.
 */
int	 harness_start(struct harness *h, const char *config_json);
int	 harness_stop(struct harness *h);
void	 harness_cleanup(struct harness *h);

/* Make DIR and write DIR/warden.json without starting warden (e.g. -n). */
int	 harness_prepare(struct harness *h, const char *config_json);
/* Start warden on the prepared folder; waits for READY=1. 0 or -1. */
int	 harness_launch(struct harness *h);
/*
 * Give warden NAME=VALUE in its environment: one of the variables the
 * harness otherwise keeps from it (WATCHDOG_USEC, WATCHDOG_PID,
 * JOURNAL_STREAM...) or any other, replacing an inherited one. A
 * NOTIFY_SOCKET given here replaces the harness's own; harness_launch()
 * cannot see READY=1 then: use harness_spawn(). Call it between
 * harness_prepare() and the first start, which fixes the environment for
 * every start of this harness; -1 after that, or when there is no room.
 */
int	 harness_setenv(struct harness *h, const char *name, const char *value);
/*
 * The two halves of harness_launch(), for a test that must act before
 * warden can be ready (a worker that gets ready on SIGUSR2, say).
 * harness_wait_ready() fails early, with the log's tail, if warden exits.
 */
int	 harness_spawn(struct harness *h);
int	 harness_wait_ready(struct harness *h, int timeout_ms);
/*
 * Start warden on a config it must reject or that makes it exit by itself:
 * returns its exit status, or -1 when it is still running after timeout_ms
 * (then it is killed). DIR and warden.log stay for inspection until
 * harness_stop() or harness_cleanup().
 */
int	 harness_start_expect_fail(struct harness *h, const char *config_json,
	    int timeout_ms);
/* After warden exited (killed by the test, say): start it again, same DIR. */
int	 harness_restart(struct harness *h);
/* Rewrite DIR/warden.json (for reload tests), with the same substitutions. */
int	 harness_write_config(struct harness *h, const char *config_json);
/* Write DIR/name (a drill, say) with the same substitutions. */
int	 harness_write_file(struct harness *h, const char *name, const char *text);
/* "DIR/name", malloc'd. */
char	*harness_path(struct harness *h, const char *name);

/* Wait until warden exits by itself: its status, or -1 on timeout. */
int	 harness_wait_exit(struct harness *h, int timeout_ms);
/* kill(2) warden. */
int	 harness_signal(struct harness *h, int sig);
/* Wait for a datagram on the notify socket with this line ("RELOADING=1"). */
int	 harness_wait_notify(struct harness *h, const char *line, int timeout_ms);

/*
 * JSON-RPC. harness_call() opens a fresh connection, sends one request and
 * returns the whole answer (caller json_decref's), NULL on I/O failure or
 * timeout. params is stolen and may be NULL. harness_result() returns a new
 * reference to "result", or NULL after printing the error.
 */
json_t	*harness_call(struct harness *h, const char *method, json_t *params);
json_t	*harness_call_timeout(struct harness *h, const char *method,
	    json_t *params, int timeout_ms);
json_t	*harness_result(struct harness *h, const char *method, json_t *params);
/* An error answer's code (0 when it is no error) and data.kind (or NULL). */
int	 harness_error_code(const json_t *response);
const char *harness_error_kind(const json_t *response);

/* Raw connections, for tests that send malformed or partial data. */
int	 harness_connect(struct harness *h);	/* a connected fd, or -1 */
struct harness_conn *harness_conn_open(struct harness *h);
struct harness_conn *harness_conn_wrap(int fd);	/* takes fd */
void	 harness_conn_close(struct harness_conn *c);
int	 harness_conn_send_raw(struct harness_conn *c, const void *buf, size_t len);
/* Sends one JSON text and a newline. Steals msg. */
int	 harness_conn_send(struct harness_conn *c, json_t *msg);
/* Sends a request with the connection's next id; returns that id or -1. */
long long harness_conn_request(struct harness_conn *c, const char *method,
	    json_t *params);
/*
 * The next line, decoded; NULL on timeout (errno ETIMEDOUT), end of stream
 * (c->eof, errno 0 on a clean close) or a line that is not JSON (EBADMSG).
 */
json_t	*harness_read_line(struct harness_conn *c, int timeout_ms);
/* The answer with this id, skipping (and queueing) events. */
json_t	*harness_read_response(struct harness_conn *c, long long id,
	    int timeout_ms);
/* 0 when warden closes the connection within timeout_ms; other lines skipped. */
int	 harness_conn_wait_closed(struct harness_conn *c, int timeout_ms);

/*
 * Events. harness_subscribe() sends "subscribe" (topics stolen, may be NULL)
 * and returns once it is answered. harness_next_event() returns the next
 * notification's params (new reference) or NULL on timeout or close.
 * harness_wait_event() skips events until one of this type (and service,
 * when not NULL) arrives.
 */
struct harness_conn *harness_subscribe(struct harness *h, json_t *topics);
json_t	*harness_next_event(struct harness_conn *c, int timeout_ms);
json_t	*harness_wait_event(struct harness_conn *c, const char *type,
	    const char *service, int timeout_ms);

/*
 * The "wait" method: condition stolen. 0 when it held within timeout_ms,
 * -1 otherwise (the error and warden's "status" are printed).
 */
int	 harness_wait(struct harness *h, json_t *condition, int timeout_ms);
int	 harness_wait_state(struct harness *h, const char *service,
	    const char *state, int timeout_ms);
int	 harness_wait_recovered(struct harness *h, int timeout_ms);

/* A service's entry of "status" (new reference), or NULL. */
json_t	*harness_service(struct harness *h, const char *service);
/* Its pid: > 0, 0 when it has none (not running), -1 on error. */
pid_t	 harness_pid_of(struct harness *h, const char *service);

/*
 * Run a program to completion (argv[0] without '/' is looked up in the
 * binaries folder first, then $PATH) with WARDEN_SOCKET=h->sock, stdin
 * from /dev/null. Its stdout and stderr are returned malloc'd when out/err
 * are not NULL. Returns its exit status (128 + signal when killed), -1 when
 * it could not run or outlived timeout_ms (then it is killed).
 */
int	 harness_run(struct harness *h, const char *const argv[], char **out,
	    char **err, int timeout_ms);
/* harness_run() of "wardenctl -S SOCK args..."; the list ends with NULL. */
int	 harness_ctl(struct harness *h, char **out, char **err, ...)
	    __attribute__((sentinel));

/*
 * Files. harness_wait_file() returns the contents of path (malloc'd) once
 * it exists and differs from prev (prev NULL: any content); NULL on
 * timeout. It watches the folder with inotify (IN_MOVED_TO,
 * IN_CLOSE_WRITE), which suits test-worker's write-then-rename files.
 * harness_wait_pidfile() does the same for a pid file: the pid in it once
 * it is not prev (0: any), -1 on timeout.
 */
char	*harness_wait_file(const char *path, const char *prev, int timeout_ms);
pid_t	 harness_wait_pidfile(const char *path, pid_t prev, int timeout_ms);
/* 0 once pid is gone (exited: zombie or reaped), -1 on timeout. */
int	 harness_wait_pid_gone(pid_t pid, int timeout_ms);
/* Whether pid exists and is not a zombie. */
bool	 harness_pid_alive(pid_t pid);
/* A whole file, malloc'd, or NULL (errno). */
char	*harness_read_file(const char *path);

/*
 * warden.log. harness_log() returns all of it (malloc'd). harness_wait_log()
 * waits until text appears after the mark; harness_log_mark() moves the mark
 * to the current end, so a later wait only sees newer lines.
 */
char	*harness_log(struct harness *h);
void	 harness_log_mark(struct harness *h);
int	 harness_wait_log(struct harness *h, const char *text, int timeout_ms);
/* Print the last lines of warden.log on stderr. */
void	 harness_log_tail(struct harness *h, int lines);

/*
 * A full /dev/shm without touching the machine's: harness_private_shm()
 * moves the calling process into a mount namespace of its own (every
 * mount private) with a tmpfs of SIZE_KIB over /dev/shm; a warden the
 * harness starts from it afterwards inherits it. Call it in a child of
 * the test, which keeps the namespace for life. Needs root; -1 with why
 * saying exactly what is missing. harness_fill() writes PATH until its
 * filesystem is full (ENOSPC): 0 or -1.
 */
int	 harness_private_shm(unsigned size_kib, char *why, size_t len);
int	 harness_fill(const char *path);

#endif
