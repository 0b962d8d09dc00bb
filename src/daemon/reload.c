/*
 * reload.c: a new configuration applied to the running tree. Nodes are
 * matched by name: a supervisor takes its new settings in place, a worker
 * whose settings are the same runs on, and one whose settings changed is
 * a new instance. The old instances (changed or removed) are retired:
 * they stop, and each successor starts once its predecessor is down.
 */
#include <stdlib.h>
#include <string.h>

#include "health-run.h"
#include "log.h"
#include "logs.h"
#include "tree-private.h"
#include "util.h"

/*
 * The old tree by name, taken before the new one is built: the old tree
 * is taken apart while the new one is put together.
 */
static struct node	**reload_old;
static size_t		  reload_nold;

static void
reload_snapshot(struct node *n)
{
	size_t	i;

	reload_old = xreallocarray(reload_old, reload_nold + 1, sizeof(*reload_old));
	reload_old[reload_nold++] = n;
	for (i = 0; i < n->nkids; i++)
		reload_snapshot(n->kids[i]);
}

static struct node *
reload_old_find(const char *name)
{
	size_t	i;

	for (i = 0; i < reload_nold; i++)
		if (strcmp(reload_old[i]->name, name) == 0)
			return reload_old[i];
	return NULL;
}

/* The node of the old tree that a new config node continues, or NULL. */
static struct node *
reload_match(const struct child_conf *c, const struct child_conf *cparent)
{
	struct node	*old = reload_old_find(c->name);

	if (old == NULL || old->is_sup != c->is_sup)
		return NULL;
	if ((old->parent == NULL) != (cparent == NULL))
		return NULL;
	if (cparent != NULL && strcmp(old->parent->name, cparent->name) != 0)
		return NULL;
	/* A worker whose settings changed is a new instance; a supervisor takes them in place. */
	if (!c->is_sup && strcmp(old->conf->fingerprint, c->fingerprint) != 0)
		return NULL;
	return old;
}

static void
reload_diff(const struct child_conf *c, const struct child_conf *cparent, json_t *r)
{
	struct node	*old = reload_old_find(c->name);
	const char	*what;
	size_t		 i;

	if (old == NULL)
		what = "added";
	else if (reload_match(c, cparent) == NULL ||
	    strcmp(old->conf->fingerprint, c->fingerprint) != 0)
		what = "changed";
	else
		what = "unchanged";
	json_array_append_new(json_object_get(r, what), json_string(c->name));
	for (i = 0; i < c->nchildren; i++)
		reload_diff(c->children[i], c, r);
}

static bool
reload_conf_has(const struct child_conf *c, const char *name)
{
	size_t	i;

	if (strcmp(c->name, name) == 0)
		return true;
	for (i = 0; i < c->nchildren; i++)
		if (reload_conf_has(c->children[i], name))
			return true;
	return false;
}

static void
reload_removed(const struct node *n, const struct child_conf *newroot, json_t *list)
{
	size_t	i;

	if (!reload_conf_has(newroot, n->name))
		json_array_append_new(list, json_string(n->name));
	for (i = 0; i < n->nkids; i++)
		reload_removed(n->kids[i], newroot, list);
}

/*
 * A changed worker with "autostart": false is a new instance of a service
 * that may be up (an operator started it) or down (never started, or
 * stopped): the new instance is wanted up exactly when the old one was.
 * One that autostart does start comes up as any changed worker does.
 */
static void
reload_keep_want(struct node *n, const struct child_conf *c)
{
	struct node	*old;

	if (n->is_sup || c->autostart)
		return;
	if ((old = reload_old_find(c->name)) != NULL && !old->is_sup)
		n->want = old->want;
}

/*
 * A worker that runs on: autostart alone never stops or restarts it; but
 * one turned from false to true while down and not wanted is started, as
 * the configuration now says it runs.
 */
static void
reload_autostart_on(struct node *n, const struct child_conf *c)
{
	if (n->is_sup || n->conf->autostart || !c->autostart || n->want ||
	    !node_is_down(n))
		return;
	n->want = true;
	n->pending_start = true;
}

/* Build the new tree, reusing the nodes that continue. */
static struct node *
reload_build(struct child_conf *c, struct node *parent, struct node *oldroot)
{
	struct node	*n, *old;
	size_t		 i;

	old = parent == NULL ? oldroot : reload_match(c, parent->conf);
	if (old == NULL || old->claimed) {
		n = node_new(c, parent);
		/* node_new built the children too; mark them all new. */
		n->pending_start = true;
		reload_keep_want(n, c);
		return n;
	}
	n = old;
	n->claimed = true;
	reload_autostart_on(n, c);
	if (n->is_sup && n->conf->max_restarts != c->max_restarts) {
		intensity_free(&n->intensity);
		intensity_init(&n->intensity, c->max_restarts);
	}
	n->conf = c;
	logs_limits(n);
	worker_env_forget(n);
	n->parent = parent;
	if (strcmp(n->name, c->name) != 0) {	/* only the root can be renamed */
		free(n->name);
		n->name = xstrdup(c->name);
	}
	free(n->path);
	n->path = node_path(parent, c->name);
	if (n->is_sup) {
		/* The old kids list is walked for retirement afterwards. */
		struct node	**oldkids = n->kids;
		size_t		  noldkids = n->nkids;

		n->kids = xcalloc(c->nchildren, sizeof(*n->kids));
		n->nkids = c->nchildren;
		for (i = 0; i < c->nchildren; i++) {
			n->kids[i] = reload_build(c->children[i], n, oldroot);
			n->kids[i]->index = i;
		}
		/* Keep the unclaimed old kids reachable for reload_retire. */
		for (i = 0; i < noldkids; i++)
			if (!oldkids[i]->claimed) {
				tree.retired = xreallocarray(tree.retired,
				    tree.nretired + 1, sizeof(*tree.retired));
				tree.retired[tree.nretired++] = oldkids[i];
				oldkids[i]->parent = NULL;
			}
		free(oldkids);
	}
	return n;
}

/* Mark the new nodes whose old instance must be down before they start. */
static void
reload_link(struct node *n, struct node *old_instance_root)
{
	struct node	*old;
	size_t		 i;

	(void)old_instance_root;
	if (!n->claimed) {
		for (i = 0; i < tree.nretired; i++) {
			old = tree.nretired > 0 ? node_find(tree.retired[i], n->name) : NULL;
			if (old != NULL && old->succ == NULL) {
				old->succ = n;
				n->pred = old;
				logs_succeed(old, n);
				break;
			}
		}
	}
	for (i = 0; i < n->nkids; i++)
		reload_link(n->kids[i], old_instance_root);
}

static void
reload_unclaim(struct node *n)
{
	size_t	i;

	n->claimed = false;
	for (i = 0; i < n->nkids; i++)
		reload_unclaim(n->kids[i]);
}

static void
reload_forget_conf(struct node *n)
{
	size_t	i;

	n->conf = NULL;
	worker_env_forget(n);
	for (i = 0; i < n->nkids; i++)
		reload_forget_conf(n->kids[i]);
}

void
reload_retired_down(struct node *n)
{
	size_t	i;

	if (n->succ != NULL) {
		n->succ->pred = NULL;
		tree_kick(n->succ->parent != NULL ? n->succ->parent : tree.root);
	}
	for (i = 0; i < tree.nretired; i++) {
		if (tree.retired[i] == n) {
			tree.retired[i] = tree.retired[--tree.nretired];
			break;
		}
	}
	/* Descendants with successors: those may start too. */
	for (i = 0; i < n->nkids; i++)
		if (n->kids[i]->succ != NULL) {
			n->kids[i]->succ->pred = NULL;
			tree_kick(n->kids[i]->succ->parent);
		}
	node_free(n);
	tree_maybe_exit();
}

static void
reload_kick_all(struct node *n)
{
	size_t	i;

	if (!n->is_sup)
		return;
	tree_kick(n);
	for (i = 0; i < n->nkids; i++)
		reload_kick_all(n->kids[i]);
}

int
tree_reload(struct config *nc, bool dry_run, json_t **result)
{
	struct config	*old = tree.config;
	struct node	**stopping;
	size_t		 first_retired, nstopping, i;
	json_t		*r;

	if (tree.shutting_down)
		return -1;
	r = json_pack("{s:[],s:[],s:[],s:[]}", "added", "removed", "changed", "unchanged");
	reload_nold = 0;
	reload_snapshot(tree.root);
	reload_diff(nc->root, NULL, r);
	reload_removed(tree.root, nc->root, json_object_get(r, "removed"));
	*result = r;
	if (dry_run) {
		free(reload_old);
		reload_old = NULL;
		return 0;
	}

	if (strcmp(old->socket, nc->socket) != 0 || strcmp(old->table, nc->table) != 0 ||
	    strcmp(old->state_dir, nc->state_dir) != 0 || old->socket_mode != nc->socket_mode)
		log_warnx("reload: socket, socket_mode, table and state_dir "
		    "take effect at the next start of warden");
	first_retired = tree.nretired;
	tree.generation++;
	tree.root = reload_build(nc->root, NULL, tree.root);
	tree.root->pending_start = false;
	reload_link(tree.root, NULL);
	reload_unclaim(tree.root);
	free(reload_old);
	reload_old = NULL;
	reload_nold = 0;
	tree.config = nc;
	/* Before the old settings go: no probe runs by them. */
	health_reload();
	/* Retired subtrees stop now; each successor starts once its predecessor is down. */
	for (i = first_retired; i < tree.nretired; i++)
		reload_forget_conf(tree.retired[i]);
	/* Stopping may free a node at once and reorder the list: walk a copy. */
	stopping = xcalloc(tree.nretired - first_retired, sizeof(*stopping));
	nstopping = tree.nretired - first_retired;
	if (nstopping > 0)
		memcpy(stopping, tree.retired + first_retired,
		    nstopping * sizeof(*stopping));
	for (i = 0; i < nstopping; i++)
		node_stop(stopping[i], STOP_RELOAD);
	free(stopping);
	config_free(old);
	reload_kick_all(tree.root);
	return 0;
}
