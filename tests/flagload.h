/*
 * flagload.h: 64 clients writing flags at once against the real warden,
 * for the group commit's suites (check_journal, check_flags_durable).
 * Client i has a connection of its own and a flag of its own, "c<i>",
 * and sets it to 1, 2, 3 ... one request at a time, each waiting for its
 * answer; what it sent last and what was answered last are kept, so that
 * after a crash every answered value can be looked for.
 */
#ifndef WARDEN_TESTS_FLAGLOAD_H
#define WARDEN_TESTS_FLAGLOAD_H

#include <pthread.h>
#include <stdbool.h>

#include "harness.h"

#define FLAGLOAD_CLIENTS	64

struct flagload {
	struct harness	*h;
	int		 fd[FLAGLOAD_CLIENTS];
	int		 sent[FLAGLOAD_CLIENTS];	/* the last value sent */
	int		 acked[FLAGLOAD_CLIENTS];	/* the last value answered OK */
	bool		 failed[FLAGLOAD_CLIENTS];	/* an answer that was not OK */
	/* Threads: up to value `until`; `quit_at` answers in all wakes the test. */
	int		 until;
	int		 total, quit_at;
	bool		 lost;		/* a connection ended (warden killed) */
	int		 ended;		/* threads done */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
};

/* The configuration: flags c0..c63, default 0, no worker (' for "). */
char		*flagload_config(void);
/* Connect every client, each answered a ping: accepted. */
void		 flagload_open(struct flagload *, struct harness *);
void		 flagload_close(struct flagload *);
/*
 * One round read by warden at once: warden is stopped (SIGSTOP) while
 * every client sends its next value, then continued, and every answer
 * must be OK. Returns the fdatasyncs the round took (table.info).
 */
unsigned	 flagload_round_stopped(struct flagload *);
/*
 * Every client in a thread of its own, until its value reaches until;
 * when quit_at > 0, returns once that many answers came in all (the
 * threads go on: flagload_join()).
 */
void		 flagload_start(struct flagload *, int until, int quit_at);
void		 flagload_join(struct flagload *);
/* table.info's journal_syncs. */
unsigned	 flagload_syncs(struct harness *);
/* c<i>'s value in warden now. */
int		 flagload_value(struct harness *, int i);

#endif
