/*
 * control-logs.c: clients that follow services' output lines
 * (service.logs with follow). Each gets the lines of the services it
 * named as "service.log" notifications, bounded like events. And who a
 * client is, as warden's log says it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "control-private.h"

static size_t	control_nfollowers;

void
control_follow_logs(struct client *c, json_t *names)
{
	if (c->follow_logs == NULL)
		control_nfollowers++;
	json_decref(c->follow_logs);
	c->follow_logs = names;
}

void
control_unfollow_logs(struct client *c)
{
	if (c->follow_logs == NULL)
		return;
	json_decref(c->follow_logs);
	c->follow_logs = NULL;
	control_nfollowers--;
}

size_t
control_log_followers(void)
{
	return control_nfollowers;
}

static bool
control_follows(const struct client *c, const char *service)
{
	json_t	*v;
	size_t	 i;

	if (json_array_size(c->follow_logs) == 0)
		return true;
	json_array_foreach(c->follow_logs, i, v)
		if (strcmp(json_string_value(v), service) == 0)
			return true;
	return false;
}

void
control_publish_log(const char *service, json_t *line)
{
	struct client	*c, *next;

	for (c = control.clients; c != NULL; c = next) {
		next = c->next;
		if (c->follow_logs == NULL || c->closing ||
		    !control_follows(c, service))
			continue;
		control_send_note(c, "service.log", line, "logs.dropped",
		    json_integer_value(json_object_get(line, "seq")));
	}
}

/*
 * The peer's command name, from /proc while it is there (a client that
 * already left is "?"), read once: an operator's action is logged under
 * who asked.
 */
const char *
control_author(struct client *c)
{
	char	path[64], comm[32] = "?";
	ssize_t	r;
	int	fd;

	if (c->author[0] != '\0')
		return c->author;
	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)c->pid);
	if (c->pid > 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		r = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		comm[r > 0 ? r : 0] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		if (comm[0] == '\0')
			strcpy(comm, "?");
	}
	snprintf(c->author, sizeof(c->author), "uid %ld pid %ld (%s)",
	    (long)c->uid, (long)c->pid, comm);
	return c->author;
}
