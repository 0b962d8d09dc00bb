/*
 * control-logs.c: clients that follow services' output lines
 * (service.logs with follow). Each gets the lines of the services it
 * named as "service.log" notifications, bounded like events.
 */
#include <string.h>

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
