/* jread.c: reading the daemon's documents without trusting their shape: typed getters and cells. */
#include "base.h"

#include <stdio.h>
#include <string.h>

#include "render_int.h"

const json_t *jget(const json_t *o, const char *key)
{
	return json_is_object(o) ? json_object_get(o, key) : NULL;
}

const char *jget_str(const json_t *o, const char *key)
{
	const json_t *v = jget(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool jnum(const json_t *v, double *out)
{
	if (json_is_integer(v)) {
		*out = (double)json_integer_value(v);
		return true;
	}
	if (json_is_real(v)) {
		*out = json_real_value(v);
		return true;
	}
	return false;
}

bool jget_num(const json_t *o, const char *key, double *out)
{
	return jnum(jget(o, key), out);
}

bool jvalue_int(const json_t *v, long long *out)
{
	double d;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	/* Reject what a long long cannot hold rather than invoke undefined behaviour. */
	if (jnum(v, &d) && d > -9.2e18 && d < 9.2e18) {
		*out = (long long)d;
		return true;
	}
	return false;
}

bool jget_int(const json_t *o, const char *key, long long *out)
{
	return jvalue_int(jget(o, key), out);
}

const json_t *jget_array(const json_t *o, const char *key)
{
	const json_t *v = jget(o, key);

	return json_is_array(v) ? v : NULL;
}

void cell_str(char *buf, size_t len, const json_t *o, const char *key)
{
	const char *s = jget_str(o, key);

	copy_clean(buf, len, s && *s ? s : "-");
}

void cell_int(char *buf, size_t len, const json_t *o, const char *key)
{
	long long v;

	if (jget_int(o, key, &v))
		snprintf(buf, len, "%lld", v);
	else
		snprintf(buf, len, "-");
}

void cell_delta(char *buf, size_t len, const json_t *o, const char *key)
{
	long long v;

	if (!jget_int(o, key, &v))
		snprintf(buf, len, "-");
	else if (v > 0)
		snprintf(buf, len, "+%lld", v);
	else
		snprintf(buf, len, "%lld", v);
}

const json_t *array_or_member(const json_t *doc, const char *key)
{
	if (json_is_array(doc))
		return doc;
	return jget_array(doc, key);
}

bool str_is(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

size_t jvalue_series(const json_t *a, long long *v, size_t max, long long gap)
{
	size_t n = json_array_size(a), first = n > max ? n - max : 0;

	for (size_t i = first; i < n; i++) {
		long long x;

		v[i - first] = jvalue_int(json_array_get(a, i), &x) && x >= 0 ? x : gap;
	}
	return n - first;
}
