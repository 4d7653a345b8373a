/* config.c: load and check /etc/backlogd/backlogd.conf with libinih. */
#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config.h"
#include "track.h"

struct load_ctx {
	struct config *cfg;
	char msg[256];       /* the first error, without FILE:LINE */
};

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->tick_ms = 1000;
	cfg->fast_ms = 100;
	cfg->quiet_secs = 60;
	cfg->client_timeout_ms = 5000;
	cfg->deep_every_ticks = 30;
	cfg->namespace_scan_ticks = 5;
	snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s", CONFIG_DEFAULT_SOCKET);
	diag_thresholds_default(&cfg->thr);
}

bool config_parse_seconds_ms(const char *s, unsigned min_ms, unsigned max_ms, unsigned *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !isfinite(v))
		return false;
	v *= 1000.0;
	if (v < (double)min_ms || v > (double)max_ms)
		return false;
	/* Rounded to the nearest ms; v is not negative here. */
	*out = (unsigned)(v + 0.5);
	return true;
}

static bool parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s == '-' || *s == '+' || *s == '\0')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* The list separators allowed in ports= and addresses=. */
static const char list_sep[] = " \t,";

static int add_ports(struct load_ctx *ctx, const char *value)
{
	struct config *cfg = ctx->cfg;
	char buf[1024], *tok, *save = NULL;
	unsigned long port;

	if (strlen(value) >= sizeof(buf)) {
		snprintf(ctx->msg, sizeof(ctx->msg), "ports: list too long");
		return 0;
	}
	strcpy(buf, value);
	for (tok = strtok_r(buf, list_sep, &save); tok; tok = strtok_r(NULL, list_sep, &save)) {
		if (!parse_uint(tok, 1, 65535, &port)) {
			snprintf(ctx->msg, sizeof(ctx->msg), "ports: '%s' is not a port (1-65535)", tok);
			return 0;
		}
		if (cfg->n_ignore_ports == CONFIG_MAX_IGNORE) {
			snprintf(ctx->msg, sizeof(ctx->msg), "ports: more than %d entries", CONFIG_MAX_IGNORE);
			return 0;
		}
		cfg->ignore_ports[cfg->n_ignore_ports++] = (uint16_t)port;
	}
	return 1;
}

static int add_addresses(struct load_ctx *ctx, const char *value)
{
	struct config *cfg = ctx->cfg;
	char buf[1024], *tok, *save = NULL;

	if (strlen(value) >= sizeof(buf)) {
		snprintf(ctx->msg, sizeof(ctx->msg), "addresses: list too long");
		return 0;
	}
	strcpy(buf, value);
	for (tok = strtok_r(buf, list_sep, &save); tok; tok = strtok_r(NULL, list_sep, &save)) {
		struct addr_match am = { 0 };

		if (inet_pton(AF_INET, tok, am.addr) == 1) {
			am.family = AF_INET;
		} else if (inet_pton(AF_INET6, tok, am.addr) == 1) {
			am.family = AF_INET6;
		} else {
			snprintf(ctx->msg, sizeof(ctx->msg), "addresses: '%s' is not an IPv4 or IPv6 address", tok);
			return 0;
		}
		if (cfg->n_ignore_addrs == CONFIG_MAX_IGNORE) {
			snprintf(ctx->msg, sizeof(ctx->msg), "addresses: more than %d entries", CONFIG_MAX_IGNORE);
			return 0;
		}
		cfg->ignore_addrs[cfg->n_ignore_addrs++] = am;
	}
	return 1;
}

static int bad_value(struct load_ctx *ctx, const char *section, const char *name,
		     const char *value, const char *want)
{
	snprintf(ctx->msg, sizeof(ctx->msg), "[%s] %s = '%s': %s", section, name, value, want);
	return 0;
}

/* inih handler: 1 to go on, 0 on an error (inih then reports the line). */
static int config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *ctx = user;
	struct config *cfg = ctx->cfg;
	unsigned long n;

	if (ctx->msg[0])
		return 0;    /* keep the first error only */
	if (!name) {
		/* A section header alone; check it is one we know. */
		if (strcmp(section, "daemon") && strcmp(section, "diagnose") && strcmp(section, "ignore") &&
		    strcmp(section, "deep")) {
			snprintf(ctx->msg, sizeof(ctx->msg), "unknown section [%s]", section);
			return 0;
		}
		return 1;
	}
	if (!strcmp(section, "daemon")) {
		if (!strcmp(name, "interval"))
			return config_parse_seconds_ms(value, 100, 3600 * 1000, &cfg->tick_ms) ? 1 :
				bad_value(ctx, section, name, value, "want seconds from 0.1 to 3600");
		if (!strcmp(name, "fast_interval")) {
			if (!strcmp(value, "0")) {
				cfg->fast_ms = 0;
				return 1;
			}
			return config_parse_seconds_ms(value, 10, 60 * 1000, &cfg->fast_ms) ? 1 :
				bad_value(ctx, section, name, value, "want seconds from 0.01 to 60, or 0 (off)");
		}
		if (!strcmp(name, "quiet_period")) {
			if (!parse_uint(value, 0, 86400, &n))
				return bad_value(ctx, section, name, value, "want seconds from 0 to 86400");
			cfg->quiet_secs = (unsigned)n;
			return 1;
		}
		if (!strcmp(name, "client_timeout"))
			return config_parse_seconds_ms(value, 100, 600 * 1000, &cfg->client_timeout_ms) ? 1 :
				bad_value(ctx, section, name, value, "want seconds from 0.1 to 600");
		if (!strcmp(name, "namespaces")) {
			if (!strcmp(value, "auto"))
				cfg->namespaces = CONFIG_NS_AUTO;
			else if (!strcmp(value, "yes"))
				cfg->namespaces = CONFIG_NS_YES;
			else if (!strcmp(value, "no"))
				cfg->namespaces = CONFIG_NS_NO;
			else
				return bad_value(ctx, section, name, value, "want auto, yes or no");
			return 1;
		}
		if (!strcmp(name, "namespace_scan")) {
			if (!parse_uint(value, 1, 100000, &n))
				return bad_value(ctx, section, name, value, "want a whole number of ticks, at least 1");
			cfg->namespace_scan_ticks = (unsigned)n;
			return 1;
		}
		if (!strcmp(name, "socket")) {
			if (value[0] != '/' || strlen(value) >= sizeof(cfg->socket_path))
				return bad_value(ctx, section, name, value, "want an absolute path shorter than 108 bytes");
			snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s", value);
			return 1;
		}
	} else if (!strcmp(section, "diagnose")) {
		if (!strcmp(name, "slow_accept_ticks")) {
			if (!parse_uint(value, 1, 100000, &n))
				return bad_value(ctx, section, name, value, "want a whole number from 1 to 100000");
			cfg->thr.slow_accept_ticks = (unsigned)n;
			return 1;
		}
		if (!strcmp(name, "full_window_ticks")) {
			if (!parse_uint(value, 1, TRACK_HISTORY, &n))
				return bad_value(ctx, section, name, value, "want a whole number from 1 to 32");
			cfg->thr.full_window_ticks = (unsigned)n;
			return 1;
		}
		if (!strcmp(name, "link_dropped_min")) {
			if (!parse_uint(value, 1, 1000000000, &n))
				return bad_value(ctx, section, name, value, "want a whole number of packets, at least 1");
			cfg->thr.link_dropped_min = (unsigned)n;
			return 1;
		}
		if (!strcmp(name, "gap_memory")) {
			if (!parse_uint(value, 1, 86400, &n))
				return bad_value(ctx, section, name, value, "want seconds from 1 to 86400");
			cfg->thr.gap_memory_secs = (unsigned)n;
			return 1;
		}
		{
			const struct { const char *key; unsigned *value; } pcts[] = {
				{ "ephemeral_pct", &cfg->thr.ephemeral_pct },
				{ "orphans_pct", &cfg->thr.orphans_pct },
				{ "conntrack_pct", &cfg->thr.conntrack_pct },
				{ "reuseport_room_pct", &cfg->thr.reuseport_room_pct },
			};
			size_t i;

			for (i = 0; i < ARRAY_SIZE(pcts); i++) {
				if (strcmp(name, pcts[i].key))
					continue;
				if (!parse_uint(value, 1, 100, &n))
					return bad_value(ctx, section, name, value, "want a percentage from 1 to 100");
				*pcts[i].value = (unsigned)n;
				return 1;
			}
		}
	} else if (!strcmp(section, "deep")) {
		if (!strcmp(name, "every_ticks")) {
			if (!parse_uint(value, 0, 1000000, &n))
				return bad_value(ctx, section, name, value, "want a whole number of ticks (0 = only when asked)");
			cfg->deep_every_ticks = (unsigned)n;
			return 1;
		}
	} else if (!strcmp(section, "ignore")) {
		if (!strcmp(name, "ports"))
			return add_ports(ctx, value);
		if (!strcmp(name, "addresses"))
			return add_addresses(ctx, value);
	} else {
		snprintf(ctx->msg, sizeof(ctx->msg), "unknown section [%s]", section);
		return 0;
	}
	snprintf(ctx->msg, sizeof(ctx->msg), "unknown key '%s' in [%s]", name, section[0] ? section : "(none)");
	return 0;
}

int config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	struct load_ctx ctx = { .cfg = cfg };
	struct config saved = *cfg;
	FILE *f;
	int line;

	f = fopen(path, "re");
	if (!f) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	line = ini_parse_file(f, config_handler, &ctx);
	fclose(f);
	if (line == 0)
		return 0;
	/* A bad file leaves the caller's configuration as it was. */
	*cfg = saved;
	if (line < 0)
		snprintf(err, errlen, "%s: cannot parse (out of memory)", path);
	else
		snprintf(err, errlen, "%s:%d: %s", path, line,
			 ctx.msg[0] ? ctx.msg : "syntax error (want 'key = value' or '[section]')");
	return -EINVAL;
}

bool config_ignores(const struct config *cfg, const struct listener *l)
{
	size_t i, alen = l->family == AF_INET ? 4 : 16;

	for (i = 0; i < cfg->n_ignore_ports; i++)
		if (cfg->ignore_ports[i] == l->port)
			return true;
	for (i = 0; i < cfg->n_ignore_addrs; i++)
		if (cfg->ignore_addrs[i].family == l->family &&
		    !memcmp(cfg->ignore_addrs[i].addr, l->addr, alen))
			return true;
	return false;
}
