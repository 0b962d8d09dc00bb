/*
 * wardenctl.c: warden's command-line client: its global options, then
 * the command (wardenctl-cmd.c) with its own. See wardenctl(1).
 *
 * Global options come before the command (as in tmux); each command
 * parses its own operands and options from its entry in the table.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "version.h"
#include "wardenctl.h"

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "socket",	required_argument,	NULL,	'S' },
		{ "json",	no_argument,		NULL,	'j' },
		{ "help",	no_argument,		NULL,	'h' },
		{ "version",	no_argument,		NULL,	'V' },
		{ NULL,		0,			NULL,	0 }
	};
	const struct ctl_cmd	*cmd;
	struct ctl_args		 a;
	struct ctl		 c;
	const char		*socket;
	bool			 json = false, help;
	int			 ch, rc;

	log_init("wardenctl", LOG_LEVEL_WARNING);
	/*
	 * A fixed hash seed: jansson would otherwise read /dev/urandom at the
	 * first object, on every run. wardenctl hashes only what its user and
	 * warden give it; nobody can flood it who could not simply not run it.
	 */
	json_object_seed(0x5741524e);
	socket = getenv("WARDEN_SOCKET");
	if (socket == NULL || *socket == '\0')
		socket = CTL_DEFAULT_SOCKET;

	/* "+": stop at the command, whose options are its own. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:S:jhV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'S':
			if (*optarg == '\0') {
				fprintf(stderr,
				    "wardenctl: empty socket path\n");
				ctl_print_synopsis(stderr);
				return CTL_EXIT_USAGE;
			}
			socket = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			ctl_print_help(stdout);
			return CTL_EXIT_OK;
		case 'V':
			printf("wardenctl %s\n", WARDEN_VERSION);
			return CTL_EXIT_OK;
		case ':':
			fprintf(stderr, "wardenctl: %s needs a value\n",
			    argv[optind - 1]);
			ctl_print_synopsis(stderr);
			return CTL_EXIT_USAGE;
		default:
			fprintf(stderr, "wardenctl: unknown option %s\n",
			    argv[optind - 1]);
			ctl_print_synopsis(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		fprintf(stderr, "wardenctl: no command\n");
		ctl_print_synopsis(stderr);
		fprintf(stderr, "\"wardenctl help\" lists the commands.\n");
		return CTL_EXIT_USAGE;
	}
	if ((cmd = ctl_find_command(argv[0])) == NULL) {
		fprintf(stderr, "wardenctl: unknown command: %s\n", argv[0]);
		ctl_print_synopsis(stderr);
		fprintf(stderr, "\"wardenctl help\" lists the commands.\n");
		return CTL_EXIT_USAGE;
	}
	rc = ctl_parse_args(cmd, argc, argv, &a, &help);
	if (rc == CTL_EXIT_OK && help)
		ctl_print_cmd_help(stdout, cmd);
	else if (rc == CTL_EXIT_OK) {
		ctl_init(&c, socket, json);
		rc = cmd->handler(&c, &a);
		ctl_close(&c);
	}
	free(a.argv);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "wardenctl: standard output: %s\n",
		    strerror(errno));
		if (rc == CTL_EXIT_OK)
			rc = CTL_EXIT_ERROR;
	}
	return rc;
}
