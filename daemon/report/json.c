/* json.c: building JSON values for the report documents (see json.h). */
#include "base.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int put(json_t *o, const char *key, json_t *v)
{
	if (!v)
		return -1;
	/* json_object_set_new() releases v itself when it fails. */
	return json_object_set_new(o, key, v) < 0 ? -1 : 0;
}

int append(json_t *a, json_t *v)
{
	if (!v)
		return -1;
	return json_array_append_new(a, v) < 0 ? -1 : 0;
}

json_t *finish(json_t *o, int rc)
{
	if (rc != 0 || !o) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * comm, unit names and anything quoting them are bytes from the kernel, not
 * UTF-8, and jansson refuses invalid UTF-8. Replace the bytes that do not
 * decode rather than lose the key. max bounds a fixed-size field that a bug
 * might have left unterminated.
 */
json_t *jstr(const char *s, size_t max)
{
	size_t len = strnlen(s, max);
	json_t *j = json_stringn(s, len);
	char *copy;

	if (j)
		return j;
	copy = malloc(len + 1);
	if (!copy)
		return NULL;
	for (size_t i = 0; i < len; i++)
		copy[i] = (unsigned char)s[i] >= 0x80 ? '?' : s[i];
	copy[len] = '\0';
	j = json_stringn(copy, len);
	free(copy);
	return j;
}

json_t *jstr_or_null(const char *s, size_t max)
{
	return s[0] ? jstr(s, max) : json_null();
}

json_t *jint(int64_t v)
{
	return json_integer((json_int_t)v);
}

/* None of the values that use -1 for unknown is legitimately negative. */
json_t *jint_or_null(int64_t v)
{
	return v < 0 ? json_null() : json_integer((json_int_t)v);
}

/* A JSON number that every consumer reads exactly stops at 2^63. */
json_t *ju64(uint64_t v)
{
	return jint((int64_t)(v > INT64_MAX ? INT64_MAX : v));
}

json_t *ju64_string(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return json_string(buf);
}

json_t *jstate(char c)
{
	char buf[2] = { c, '\0' };

	if (c <= ' ' || (unsigned char)c >= 0x7f)
		return json_null();
	return json_string(buf);
}
