/*
 * reexec.c: warden executing itself again in place (see reexec.h).
 */
#include <stdio.h>

#include "reexec.h"

int
reexec_request(const char *binary, char *err, size_t errlen)
{
	(void)binary;
	snprintf(err, errlen, "reexec is not available in this build");
	return -1;
}

int
reexec_pending(void)
{
	return 0;
}
