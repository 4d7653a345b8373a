/* target.c: parsing what explain was asked about, and matching it to listeners and finding keys. */
#include "base.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "explain_int.h"

static bool parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (!*s)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return false;
	}
	if (v == 0)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* Copy s[0..len) into host as a C string. Return: false when empty or too long. */
static bool copy_host(char *host, size_t size, const char *s, size_t len)
{
	if (len == 0 || len >= size)
		return false;
	memcpy(host, s, len);
	host[len] = '\0';
	return true;
}

bool parse_target(const char *s, struct target *t)
{
	char host[64];
	const char *colon;

	memset(t, 0, sizeof(*t));
	if (parse_port(s, &t->ep.port)) {
		t->any_addr = true;
		return true;
	}
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':' || !copy_host(host, sizeof(host), s + 1, (size_t)(end - s - 1)))
			return false;
		t->ep.family = AF_INET6;
		return inet_pton(AF_INET6, host, t->ep.addr) == 1 && parse_port(end + 2, &t->ep.port);
	}
	colon = strchr(s, ':');
	if (!colon || strchr(colon + 1, ':') || !copy_host(host, sizeof(host), s, (size_t)(colon - s)))
		return false;
	if (!parse_port(colon + 1, &t->ep.port))
		return false;
	if (strcmp(host, "*") == 0) {
		t->any_addr = true;
		return true;
	}
	t->ep.family = AF_INET;
	return inet_pton(AF_INET, host, t->ep.addr) == 1;
}

enum match_kind match_listener(const struct target *t, const struct listener *l, bool wildcard_pass)
{
	if (l->port != t->ep.port)
		return MATCH_NONE;
	if (t->any_addr)
		return MATCH_PORT;
	if (!wildcard_pass)
		return listener_same_endpoint(&t->ep, l) ? MATCH_EXACT : MATCH_NONE;
	/*
	 * A connection to 127.0.0.1:8080 lands on 0.0.0.0:8080, or on a
	 * dual-stack [::]:8080 (sock_diag does not say whether it is v6only,
	 * so it is offered as the candidate).
	 */
	if (listener_is_wildcard(l) &&
	    (l->family == t->ep.family || (t->ep.family == AF_INET && l->family == AF_INET6)))
		return MATCH_WILDCARD;
	return MATCH_NONE;
}

/* A bare port names a local port, so it matches listener keys only. */
bool key_matches(const char *target, const struct target *tp, enum finding_scope scope, const char *key)
{
	struct target k;

	if (strcmp(key, target) == 0)
		return true;
	if (!tp || (scope != SCOPE_LISTENER && scope != SCOPE_DESTINATION) || !parse_target(key, &k))
		return false;
	if (tp->any_addr || k.any_addr)
		return scope == SCOPE_LISTENER && k.ep.port == tp->ep.port;
	return listener_same_endpoint(&k.ep, &tp->ep);
}
