/*
 * fuzz_ctl.c: the control protocol from request line to reply, as ctl.c's
 * handle_line takes a line (JSON, an object with a string "command") and
 * hands it to backlogd's own command table (commands_answer) over a fleet
 * of the recorded host. The reply must be a JSON object that serialises.
 */
#include "base.h"

#include <stdlib.h>

#include <jansson.h>

#include "commands.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *req, *reply;
	char *s;

	req = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
	if (!req)
		return 0;
	if (!json_is_object(req) || !json_is_string(json_object_get(req, "command"))) {
		json_decref(req);
		return 0;
	}
	reply = commands_answer(req, fuzz_fleet());
	json_decref(req);
	if (!json_is_object(reply))
		abort();
	s = json_dumps(reply, JSON_COMPACT);
	if (!s)
		abort();
	free(s);
	json_decref(reply);
	return 0;
}
