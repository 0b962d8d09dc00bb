/*
 * addon.c: the Node-API addon under warden-openfeature. It answers every
 * read by calling libwarden (libwarden(3)), the one evaluator of every
 * language: it never reads the table itself.
 *
 * libwarden is loaded with dlopen(3) from the path JavaScript hands to
 * load(), as the Python module loads it with ctypes: the same .node then
 * serves a checkout and an installed tree, and a missing library leaves
 * every handle answering defaults instead of failing the require().
 *
 * Exports (lib/table.js is the only caller; see warden-node(3)):
 *	load(path)			null, or why the library did not load
 *	open(name|null)			a handle (an external)
 *	enabled(h, flag, dflt)		warden_enabled()
 *	enabledFor(h, flag, id, dflt)	warden_enabled_for()
 *	evaluate(h, flag, id|null)	ADDON_EVAL_*: the answer and its kind
 *	stage(h), generation(h), state(h), close(h)
 *	nop(h, flag, dflt)		nothing: the floor of the bench
 */
#define NAPI_VERSION 8
#include <dlfcn.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warden.h"

/* evaluate()'s answers: how the table answered, not only what. */
#define ADDON_EVAL_DEFAULT	(-1)	/* no answer: no table or no such flag */
#define ADDON_EVAL_OFF		0	/* 0 */
#define ADDON_EVAL_ON		1	/* 100 */
#define ADDON_EVAL_SPLIT_NOID	2	/* a percentage, no id to bucket */
#define ADDON_EVAL_SPLIT_OUT	3	/* a percentage, the id outside it */
#define ADDON_EVAL_SPLIT_IN	4	/* a percentage, the id inside it */

/* libwarden's flag names are at most 63 bytes; one more says "too long". */
#define ADDON_FLAG_MAX		63
/* Interned names: libwarden finds a flag's cache entry by its address. */
#define ADDON_NAMES_MAX		4096
#define ADDON_NAME_SLOTS	8192	/* a power of two, twice the above */
#define ADDON_ID_STACK		256

struct addon_lib {
	void			*dl;
	__typeof__(warden_open)		*open;
	__typeof__(warden_enabled)	*enabled;
	__typeof__(warden_enabled_for)	*enabled_for;
	__typeof__(warden_stage)	*stage;
	__typeof__(warden_generation)	*generation;
	__typeof__(warden_state)	*state;
	__typeof__(warden_close)	*close;
};

/* One per Node environment (each worker thread has its own). */
struct addon_env {
	struct addon_lib	 lib;
	char			*names[ADDON_NAME_SLOTS];
	size_t			 nnames;
};

/*
 * A handle: the table is NULL once closed, or with no library. It keeps
 * warden_close itself: at exit it may be finalized after its environment.
 */
struct addon_handle {
	__typeof__(warden_close)	*close;
	warden_table			*t;
};

/* Tells our handles from any other external. */
static const napi_type_tag addon_tag = {
	0x77617264656e2d6eULL, 0x6f64652d68616e64ULL
};

static void
addon_throw_type(napi_env env, const char *what)
{
	(void)napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", what);
}

static napi_value
addon_bool(napi_env env, bool b)
{
	napi_value v;

	if (napi_get_boolean(env, b, &v) != napi_ok)
		return NULL;
	return v;
}

static napi_value
addon_int(napi_env env, int64_t i)
{
	napi_value v;

	if (napi_create_int64(env, i, &v) != napi_ok)
		return NULL;
	return v;
}

/* The truth of any value, as JavaScript's Boolean(v). */
static bool
addon_truth(napi_env env, napi_value v)
{
	napi_value	b;
	bool		r;

	if (napi_get_value_bool(env, v, &r) == napi_ok)
		return r;
	if (napi_coerce_to_bool(env, v, &b) != napi_ok ||
	    napi_get_value_bool(env, b, &r) != napi_ok)
		return false;
	return r;
}

/* The handle in v, or NULL with a TypeError thrown. */
static struct addon_handle *
addon_handle_of(napi_env env, napi_value v)
{
	void	*p;
	bool	 ours = false;

	if (napi_check_object_type_tag(env, v, &addon_tag, &ours) != napi_ok ||
	    !ours || napi_get_value_external(env, v, &p) != napi_ok) {
		addon_throw_type(env, "warden: not a handle of this addon");
		return NULL;
	}
	return p;
}

static uint32_t
addon_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (n-- > 0)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/*
 * The interned copy of name, so that each read of a flag hands libwarden
 * the same address; name itself (the caller's buffer) once the table of
 * names is full, which still answers right, only slower.
 */
static const char *
addon_intern(struct addon_env *ae, const char *name, size_t n)
{
	size_t	i = addon_hash(name, n) & (ADDON_NAME_SLOTS - 1);
	char	*copy;

	for (; ae->names[i] != NULL; i = (i + 1) & (ADDON_NAME_SLOTS - 1))
		if (strcmp(ae->names[i], name) == 0)
			return ae->names[i];
	if (ae->nnames >= ADDON_NAMES_MAX || (copy = strdup(name)) == NULL)
		return name;
	ae->names[i] = copy;
	ae->nnames++;
	return copy;
}

/*
 * The flag name in v as libwarden's string: 0 with *out set (NULL: a name
 * no table holds, which answers the default); -1 with a TypeError thrown
 * when v is not a string. buf holds ADDON_FLAG_MAX + 2 bytes.
 */
static int
addon_flag(napi_env env, struct addon_env *ae, napi_value v, char *buf,
    const char **out)
{
	size_t n;

	if (napi_get_value_string_utf8(env, v, buf, ADDON_FLAG_MAX + 2, &n)
	    != napi_ok) {
		addon_throw_type(env, "warden: the flag must be a string");
		return -1;
	}
	*out = NULL;
	if (n == 0 || n > ADDON_FLAG_MAX || strlen(buf) != n)
		return 0;	/* empty, too long, or a NUL inside */
	*out = addon_intern(ae, buf, n);
	return 0;
}

/*
 * The id in v, in buf when it fits, else in *heap (freed by the caller):
 * 0 with *out set (NULL for null/undefined; "bad" for a NUL inside, which
 * no id holds); -1 with a TypeError thrown.
 */
static int
addon_id(napi_env env, napi_value v, char *buf, char **heap, const char **out,
    bool *bad)
{
	napi_valuetype	ty;
	size_t		n;

	*out = NULL;
	*heap = NULL;
	*bad = false;
	if (napi_typeof(env, v, &ty) != napi_ok)
		return -1;
	if (ty == napi_null || ty == napi_undefined)
		return 0;
	if (ty != napi_string) {
		addon_throw_type(env, "warden: the id must be a string");
		return -1;
	}
	if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok)
		return -1;
	if (n >= ADDON_ID_STACK && (buf = *heap = malloc(n + 1)) == NULL) {
		(void)napi_throw_error(env, "ENOMEM", "warden: out of memory");
		return -1;
	}
	if (napi_get_value_string_utf8(env, v, buf, n + 1, &n) != napi_ok)
		return -1;
	*bad = strlen(buf) != n;
	*out = buf;
	return 0;
}

/* The arguments of a call, its per-environment state, and its handle. */
static int
addon_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv,
    struct addon_env **ae, struct addon_handle **h)
{
	size_t	argc = want;
	void	*data;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, &data) != napi_ok)
		return -1;
	*ae = data;
	if (argc < want) {
		addon_throw_type(env, "warden: too few arguments");
		return -1;
	}
	if (h != NULL && (*h = addon_handle_of(env, argv[0])) == NULL)
		return -1;
	return 0;
}

static napi_value
addon_load(napi_env env, napi_callback_info info)
{
	struct addon_env	*ae;
	struct addon_lib	 l;
	napi_value		 argv[1], r;
	char			 path[4096], why[4352];
	size_t			 n;
	const char		*err;

	if (addon_args(env, info, 1, argv, &ae, NULL) != 0)
		return NULL;
	if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &n)
	    != napi_ok || n == 0 || n >= sizeof path - 1 || strlen(path) != n) {
		addon_throw_type(env, "warden: the library must be a path");
		return NULL;
	}
	if (ae->lib.dl != NULL)
		return addon_bool(env, false);	/* loaded already: keep it */
	memset(&l, 0, sizeof l);
	err = NULL;
	if ((l.dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL)
		err = dlerror();
	else if ((l.open = dlsym(l.dl, "warden_open")) == NULL ||
	    (l.enabled = dlsym(l.dl, "warden_enabled")) == NULL ||
	    (l.enabled_for = dlsym(l.dl, "warden_enabled_for")) == NULL ||
	    (l.stage = dlsym(l.dl, "warden_stage")) == NULL ||
	    (l.generation = dlsym(l.dl, "warden_generation")) == NULL ||
	    (l.state = dlsym(l.dl, "warden_state")) == NULL ||
	    (l.close = dlsym(l.dl, "warden_close")) == NULL) {
		err = dlerror();
		(void)dlclose(l.dl);
	}
	if (err != NULL) {
		(void)snprintf(why, sizeof why, "%s", err);
		if (napi_create_string_utf8(env, why, NAPI_AUTO_LENGTH, &r)
		    != napi_ok)
			return NULL;
		return r;
	}
	ae->lib = l;
	if (napi_get_null(env, &r) != napi_ok)
		return NULL;
	return r;
}

static void
addon_handle_free(napi_env env, void *data, void *hint)
{
	struct addon_handle *h = data;

	(void)env;
	(void)hint;
	if (h->t != NULL)
		h->close(h->t);
	free(h);
}

static napi_value
addon_open(napi_env env, napi_callback_info info)
{
	struct addon_env	*ae;
	struct addon_handle	*h;
	napi_value		 argv[1], r;
	napi_valuetype		 ty;
	char			*name = NULL;
	size_t			 n;
	bool			 bad = false;

	if (addon_args(env, info, 1, argv, &ae, NULL) != 0 ||
	    napi_typeof(env, argv[0], &ty) != napi_ok)
		return NULL;
	if (ty == napi_string) {
		if (napi_get_value_string_utf8(env, argv[0], NULL, 0, &n) != napi_ok ||
		    (name = malloc(n + 1)) == NULL ||
		    napi_get_value_string_utf8(env, argv[0], name, n + 1, &n) != napi_ok) {
			free(name);
			(void)napi_throw_error(env, "ENOMEM", "warden: out of memory");
			return NULL;
		}
		bad = strlen(name) != n;
	} else if (ty != napi_null && ty != napi_undefined) {
		addon_throw_type(env, "warden: the table name must be a string or null");
		return NULL;
	}
	if ((h = calloc(1, sizeof *h)) == NULL) {
		free(name);
		(void)napi_throw_error(env, "ENOMEM", "warden: out of memory");
		return NULL;
	}
	h->close = ae->lib.close;
	/* A name with a NUL inside names no table: the handle answers defaults. */
	if (ae->lib.dl != NULL && !bad)
		h->t = ae->lib.open(name);
	free(name);
	if (napi_create_external(env, h, addon_handle_free, NULL, &r) != napi_ok) {
		addon_handle_free(env, h, NULL);
		return NULL;
	}
	if (napi_type_tag_object(env, r, &addon_tag) != napi_ok)
		return NULL;
	return r;
}

static napi_value
addon_enabled(napi_env env, napi_callback_info info)
{
	struct addon_env	*ae;
	struct addon_handle	*h;
	napi_value		 argv[3];
	char			 buf[ADDON_FLAG_MAX + 2];
	const char		*flag;
	bool			 dflt;

	if (addon_args(env, info, 3, argv, &ae, &h) != 0 ||
	    addon_flag(env, ae, argv[1], buf, &flag) != 0)
		return NULL;
	dflt = addon_truth(env, argv[2]);
	if (flag == NULL || h->t == NULL)
		return addon_bool(env, dflt);
	return addon_bool(env, ae->lib.enabled(h->t, flag, dflt));
}

static napi_value
addon_enabled_for(napi_env env, napi_callback_info info)
{
	struct addon_env	*ae;
	struct addon_handle	*h;
	napi_value		 argv[4], r;
	char			 buf[ADDON_FLAG_MAX + 2], ibuf[ADDON_ID_STACK];
	char			*heap;
	const char		*flag, *id;
	bool			 dflt, bad;

	if (addon_args(env, info, 4, argv, &ae, &h) != 0 ||
	    addon_flag(env, ae, argv[1], buf, &flag) != 0 ||
	    addon_id(env, argv[2], ibuf, &heap, &id, &bad) != 0)
		return NULL;
	dflt = addon_truth(env, argv[3]);
	if (flag == NULL || bad || h->t == NULL)
		r = addon_bool(env, dflt);
	else
		r = addon_bool(env, ae->lib.enabled_for(h->t, flag, id, dflt));
	free(heap);
	return r;
}

/*
 * Which kind of answer the table has for flag, from the public calls
 * alone: the two defaults tell "no answer" from an answer, and
 * warden_enabled_for with no id answers its default only for a
 * percentage (libwarden(3)). A change published between the calls can
 * mix two generations' answers; the next read has the new one whole.
 */
static int
addon_kind(const struct addon_lib *l, warden_table *t, const char *flag,
    const char *id)
{
	bool on = l->enabled(t, flag, false);

	if (on != l->enabled(t, flag, true))
		return ADDON_EVAL_DEFAULT;
	if (on)
		return ADDON_EVAL_ON;
	if (l->enabled_for(t, flag, NULL, false) ==
	    l->enabled_for(t, flag, NULL, true))
		return ADDON_EVAL_OFF;
	if (id == NULL)
		return ADDON_EVAL_SPLIT_NOID;
	return l->enabled_for(t, flag, id, false) ? ADDON_EVAL_SPLIT_IN :
	    ADDON_EVAL_SPLIT_OUT;
}

static napi_value
addon_evaluate(napi_env env, napi_callback_info info)
{
	struct addon_env	*ae;
	struct addon_handle	*h;
	napi_value		 argv[3], r;
	char			 buf[ADDON_FLAG_MAX + 2], ibuf[ADDON_ID_STACK];
	char			*heap;
	const char		*flag, *id;
	bool			 bad;

	if (addon_args(env, info, 3, argv, &ae, &h) != 0 ||
	    addon_flag(env, ae, argv[1], buf, &flag) != 0 ||
	    addon_id(env, argv[2], ibuf, &heap, &id, &bad) != 0)
		return NULL;
	if (flag == NULL || bad || h->t == NULL)
		r = addon_int(env, ADDON_EVAL_DEFAULT);
	else
		r = addon_int(env, addon_kind(&ae->lib, h->t, flag, id));
	free(heap);
	return r;
}

static napi_value
addon_stage(napi_env env, napi_callback_info info)
{
	struct addon_env	*ae;
	struct addon_handle	*h;
	napi_value		 argv[1];

	if (addon_args(env, info, 1, argv, &ae, &h) != 0)
		return NULL;
	return addon_int(env, h->t == NULL ? -1 : ae->lib.stage(h->t));
}

static napi_value
addon_generation(napi_env env, napi_callback_info info)
{
	struct addon_env	*ae;
	struct addon_handle	*h;
	napi_value		 argv[1], r;

	if (addon_args(env, info, 1, argv, &ae, &h) != 0)
		return NULL;
	/* A double holds every generation below 2^53: centuries of changes. */
	if (napi_create_double(env, h->t == NULL ? 0 :
	    (double)ae->lib.generation(h->t), &r) != napi_ok)
		return NULL;
	return r;
}

static napi_value
addon_state(napi_env env, napi_callback_info info)
{
	struct addon_env	*ae;
	struct addon_handle	*h;
	napi_value		 argv[1];

	if (addon_args(env, info, 1, argv, &ae, &h) != 0)
		return NULL;
	return addon_int(env, h->t == NULL ? WARDEN_NO_TABLE :
	    ae->lib.state(h->t));
}

static napi_value
addon_close(napi_env env, napi_callback_info info)
{
	struct addon_env	*ae;
	struct addon_handle	*h;
	napi_value		 argv[1], r;
	warden_table		*t;

	if (addon_args(env, info, 1, argv, &ae, &h) != 0)
		return NULL;
	t = h->t;
	h->t = NULL;
	if (t != NULL)
		ae->lib.close(t);
	if (napi_get_undefined(env, &r) != napi_ok)
		return NULL;
	return r;
}

/* The floor of bench/nodeflag: a call that takes the arguments, no more. */
static napi_value
addon_nop(napi_env env, napi_callback_info info)
{
	struct addon_env	*ae;
	napi_value		 argv[3];

	if (addon_args(env, info, 3, argv, &ae, NULL) != 0)
		return NULL;
	return addon_bool(env, false);
}

static void
addon_env_free(napi_env env, void *data, void *hint)
{
	struct addon_env	*ae = data;
	size_t			 i;

	(void)env;
	(void)hint;
	for (i = 0; i < ADDON_NAME_SLOTS; i++)
		free(ae->names[i]);
	/* The library stays mapped: handles finalized after this may call it. */
	free(ae);
}

static napi_value
addon_init(napi_env env, napi_value exports)
{
	static const struct {
		const char	*name;
		napi_callback	 fn;
	} fns[] = {
		{ "load", addon_load }, { "open", addon_open },
		{ "enabled", addon_enabled }, { "enabledFor", addon_enabled_for },
		{ "evaluate", addon_evaluate }, { "stage", addon_stage },
		{ "generation", addon_generation }, { "state", addon_state },
		{ "close", addon_close }, { "nop", addon_nop },
	};
	struct addon_env	*ae;
	napi_value		 f;
	size_t			 i;

	if ((ae = calloc(1, sizeof *ae)) == NULL) {
		(void)napi_throw_error(env, "ENOMEM", "warden: out of memory");
		return NULL;
	}
	if (napi_set_instance_data(env, ae, addon_env_free, NULL) != napi_ok) {
		free(ae);
		return NULL;
	}
	for (i = 0; i < sizeof fns / sizeof fns[0]; i++)
		if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH,
		    fns[i].fn, ae, &f) != napi_ok ||
		    napi_set_named_property(env, exports, fns[i].name, f) != napi_ok)
			return NULL;
	return exports;
}

/* The macro defines exported functions that Node looks up, unprototyped. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
NAPI_MODULE(NODE_GYP_MODULE_NAME, addon_init)
#pragma GCC diagnostic pop
