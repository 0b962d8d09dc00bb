/*
 * drilltest.c: the drill suites' helpers (drilltest.h).
 */
#include <check.h>
#include <string.h>

#include "drill.h"
#include "drilltest.h"

const char drilltest_full[] =
	"{\n"
	"  \"name\": \"full\",\n"
	"  \"description\": \"every kind of step\",\n"
	"  \"steady_state\": [\n"
	"    { \"expect\": \"status\", \"match\": { \"health\": \"ok\" } }\n"
	"  ],\n"
	"  \"steps\": [\n"
	"    { \"name\": \"up\", \"do\": \"stage.set\", \"params\": "
	"{ \"stage\": 4 } },\n"
	"    { \"do\": [ { \"method\": \"service.kill\", \"params\": "
	"{ \"service\": \"*\" } },\n"
	"              { \"method\": \"table.delete\" } ] },\n"
	"    { \"expect\": \"status\", \"params\": { \"service\": \"r\" },\n"
	"      \"match\": { \"services\": [ { \"restarts\": "
	"{ \"$delta\": { \"$ge\": 1 } } } ] } },\n"
	"    { \"wait\": { \"recovered\": true }, \"within_ms\": 2000 },\n"
	"    { \"wait\": { \"service\": \"r\", \"state\": \"running\",\n"
	"                \"min_restarts\": { \"$delta\": 2 } }, "
	"\"within_ms\": 0 }\n"
	"  ],\n"
	"  \"rollback\": [ { \"do\": \"stage.emergency\" } ]\n"
	"}\n";

struct drill *
drilltest_parse(const char *text)
{
	struct drill	*d = NULL;
	char		 err[1024];

	err[0] = '\0';
	ck_assert_msg(drill_parse(text, strlen(text), "d.json", &d, err,
	    sizeof(err)) == 0, "unexpected error: %s", err);
	ck_assert_ptr_nonnull(d);
	return d;
}
