/*
 * methods-admin.c: the methods of warden itself (see methods.h): reload
 * the configuration, shut down, and reexec, whose calls are answered by
 * the image that comes out of it.
 */
#include <stdio.h>

#include "control.h"
#include "log.h"
#include "methods.h"
#include "reexec.h"
#include "reconfigure.h"
#include "rpc.h"
#include "rpc-private.h"
#include "tree.h"

void
methods_admin_reload(struct call *call, json_t *params)
{
	struct jsonrpc_error	 e;
	json_t			*result;
	char			 err[1024];
	bool			 dry_run;

	if (jsonrpc_reload_params(params, &dry_run, &e) == -1) {
		rpc_fail(call, &e);
		return;
	}
	switch (reconfigure_run(NULL, dry_run, &result, err, sizeof(err))) {
	case RECONFIGURE_OK:
		rpc_result(call, result);
		break;
	case RECONFIGURE_INVALID:
		rpc_error(call, RPC_INVALID_PARAMS, "%s", err);
		break;
	case RECONFIGURE_STOPPING:
		rpc_error(call, RPC_CONFLICT, "%s", err);
		break;
	}
}

void
methods_admin_shutdown(struct call *call, json_t *params)
{
	(void)params;
	log_info("shutdown by %s", control_author(call->client));
	rpc_result(call, json_pack("{s:b}", "stopping", 1));
	tree_shutdown();
}

/*
 * Answered by the image that comes out of it: the call waits, on its
 * client's connection, through the exec (rpc_reexec_done) or until the
 * old image gives up (rpc_reexec_failed).
 */
void
methods_admin_reexec(struct call *call, json_t *params)
{
	struct jsonrpc_error	 e;
	struct pending		*p;
	const char		*path;
	char			 err[1024];
	int			 rc;

	if (jsonrpc_reexec_params(params, &path, &e) == -1) {
		rpc_fail(call, &e);
		return;
	}
	if (!rpc_wait_room(call))
		return;
	log_info("reexec of %s by %s", path != NULL ? path :
	    "warden's own binary", control_author(call->client));
	/* Waiting before the request: an outcome told at once reaches it. */
	p = rpc_wait_take(call, PENDING_REEXEC);
	rpc_wait_reexec(p, true);
	rc = reexec_request(path, err, sizeof(err));
	if ((p = rpc_wait_reexec_asked()) != NULL && rc < 0) {
		log_warnx("reexec refused: %s", err);
		/* -2: the file named is no binary to run; -1: not now. */
		rpc_error(&p->call, rc == -2 ? RPC_INVALID_PARAMS : RPC_CONFLICT,
		    "%s", err);
		rpc_wait_free(p);
	}
}

void
rpc_reexec_failed(const char *why)
{
	struct pending	*p;
	char		 msg[JSONRPC_MESSAGE_MAX];

	/* Both the message and data.reason: clean it once for both. */
	snprintf(msg, sizeof(msg), "%s", why != NULL ? why : "reexec failed");
	jsonrpc_utf8_clean(msg);
	while ((p = rpc_wait_reexec_next()) != NULL) {
		rpc_error_data(&p->call, RPC_REEXEC_FAILED,
		    json_pack("{s:s}", "reason", msg), "%s", msg);
		rpc_wait_free(p);
	}
}

void
rpc_reexec_done(json_t *result)
{
	struct pending	*p;

	while ((p = rpc_wait_reexec_next()) != NULL) {
		rpc_result(&p->call, result != NULL ? json_incref(result) :
		    json_object());
		rpc_wait_free(p);
	}
}
