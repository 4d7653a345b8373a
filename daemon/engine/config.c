/* config.c: /etc/backlogd/backlogd.conf: one table of keys (range, parser, default), read by its own small INI reader. */
#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "config.h"
#include "track.h"

/*
 * How a key's text becomes a value. SECONDS and UINT fill the unsigned at
 * the row's offset, within [min, max] (SECONDS in ms); SETTER keys parse
 * their own shape.
 */
enum key_kind {
	KEY_SECONDS,
	KEY_UINT,
	KEY_SETTER,
};

struct config_key {
	const char *section;
	const char *name;
	enum key_kind kind;
	size_t offset;            /* SECONDS, UINT: of an unsigned in struct config */
	unsigned long min, max;
	const char *unit;         /* UINT: what the number counts, for the error */
	const char *note;         /* appended to the error: what a special value means */
	bool zero_is_off;         /* SECONDS: "0" turns the feature off */
	/* SETTER: Return: true, or false with want saying what the key takes. */
	bool (*set)(struct config *cfg, const char *value, char *want, size_t len);
	/*
	 * The default, in the file's own words and through the same parser, so
	 * that it is written once. NULL: the zero of memset, or for [diagnose]
	 * the value diag_thresholds_default() gives.
	 */
	const char *dflt;
};

/* A row's leading fields by kind; a row then adds .note, .zero_is_off, .dflt as it needs. */
#define FIELD(member) offsetof(struct config, member)
#define SECONDS(sec, key, member, lo_ms, hi_ms) \
	.section = sec, .name = key, .kind = KEY_SECONDS, .offset = FIELD(member), .min = lo_ms, .max = hi_ms
#define NUMBER(sec, key, member, lo, hi, what) \
	.section = sec, .name = key, .kind = KEY_UINT, .offset = FIELD(member), .min = lo, .max = hi, .unit = what
#define SETTER(sec, key, fn) .section = sec, .name = key, .kind = KEY_SETTER, .set = fn

static bool set_namespaces(struct config *cfg, const char *value, char *want, size_t len);
static bool set_bpf(struct config *cfg, const char *value, char *want, size_t len);
static bool set_socket(struct config *cfg, const char *value, char *want, size_t len);
static bool add_ports(struct config *cfg, const char *value, char *want, size_t len);
static bool add_addresses(struct config *cfg, const char *value, char *want, size_t len);
static bool set_textfile(struct config *cfg, const char *value, char *want, size_t len);
static bool set_listen(struct config *cfg, const char *value, char *want, size_t len);

/* Every key of backlogd.conf, one row each. */
static const struct config_key config_keys[] = {
	{ SECONDS("daemon", "interval", tick_ms, 100, 3600 * 1000), .dflt = "1" },
	{ SECONDS("daemon", "fast_interval", fast_ms, 10, 60 * 1000), .zero_is_off = true,
	  .note = ", or 0 (off)", .dflt = "0.1" },
	{ SECONDS("daemon", "listener_refresh", listener_refresh_ms, 100, 3600 * 1000),
	  .zero_is_off = true, .note = ", or 0 (every tick)", .dflt = "30" },
	{ NUMBER("daemon", "quiet_period", quiet_secs, 0, 86400, "seconds"), .dflt = "60" },
	{ SECONDS("daemon", "client_timeout", client_timeout_ms, 100, 600 * 1000), .dflt = "5" },
	{ SETTER("daemon", "namespaces", set_namespaces), .dflt = "auto" },
	{ NUMBER("daemon", "namespace_scan", namespace_scan_ticks, 1, 100000, "a whole number of ticks"),
	  .dflt = "5" },
	{ NUMBER("daemon", "max_namespaces", max_namespaces, 1, CONFIG_MAX_NAMESPACES, "a whole number of namespaces"),
	  .dflt = "256" },
	{ SETTER("daemon", "socket", set_socket), .dflt = CONFIG_DEFAULT_SOCKET },
	{ SETTER("daemon", "bpf", set_bpf), .dflt = "auto" },
	{ NUMBER("diagnose", "slow_accept_ticks", thr.slow_accept_ticks, 1, 100000, "a whole number") },
	{ NUMBER("diagnose", "full_window_ticks", thr.full_window_ticks, 1, TRACK_HISTORY, "a whole number") },
	{ NUMBER("diagnose", "link_dropped_min", thr.link_dropped_min, 1, 1000000000, "a whole number of packets") },
	{ NUMBER("diagnose", "gap_memory", thr.gap_memory_secs, 1, 86400, "seconds") },
	{ NUMBER("diagnose", "ephemeral_pct", thr.ephemeral_pct, 1, 100, "a percentage") },
	{ NUMBER("diagnose", "orphans_pct", thr.orphans_pct, 1, 100, "a percentage") },
	{ NUMBER("diagnose", "conntrack_pct", thr.conntrack_pct, 1, 100, "a percentage") },
	{ NUMBER("diagnose", "reuseport_room_pct", thr.reuseport_room_pct, 1, 100, "a percentage") },
	{ NUMBER("deep", "every_ticks", deep_every_ticks, 0, 1000000, "a whole number of ticks"),
	  .note = " (0 = only when asked)", .dflt = "0" },
	{ SETTER("ignore", "ports", add_ports) },
	{ SETTER("ignore", "addresses", add_addresses) },
	{ SETTER("metrics", "textfile", set_textfile) },
	{ SETTER("metrics", "listen", set_listen) },
};

struct load_ctx {
	struct config *cfg;
	char msg[400];       /* the first error, without FILE:LINE */
};

static unsigned *key_field(struct config *cfg, const struct config_key *k)
{
	return (unsigned *)((char *)cfg + k->offset);
}

/* Seconds with an optional fraction ("0.5") into *out as ms, rounded, within [min_ms, max_ms]. */
static bool parse_seconds_ms(const char *s, unsigned long min_ms, unsigned long max_ms, unsigned *out)
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

_Static_assert(CONFIG_NS_AUTO == 0 && CONFIG_NS_YES == 1 && CONFIG_NS_NO == 2 &&
	       CONFIG_BPF_AUTO == 0 && CONFIG_BPF_YES == 1 && CONFIG_BPF_NO == 2,
	       "parse_auto_yes_no's words are in the enums' order");

/* One of "auto", "yes", "no" into *out (the enums share that order). Return: false with want set otherwise. */
static bool parse_auto_yes_no(const char *value, int *out, char *want, size_t len)
{
	static const char *const words[] = { "auto", "yes", "no" };

	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		if (strcmp(value, words[i]) == 0) {
			*out = (int)i;
			return true;
		}
	}
	snprintf(want, len, "want auto, yes or no");
	return false;
}

static bool set_namespaces(struct config *cfg, const char *value, char *want, size_t len)
{
	int v;

	if (!parse_auto_yes_no(value, &v, want, len))
		return false;
	cfg->namespaces = (enum config_namespaces)v;
	return true;
}

static bool set_bpf(struct config *cfg, const char *value, char *want, size_t len)
{
	int v;

	if (!parse_auto_yes_no(value, &v, want, len))
		return false;
	cfg->bpf = (enum config_bpf)v;
	return true;
}

static bool set_socket(struct config *cfg, const char *value, char *want, size_t len)
{
	if (value[0] != '/' || strlen(value) >= sizeof(cfg->socket_path)) {
		snprintf(want, len, "want an absolute path shorter than %zu bytes", sizeof(cfg->socket_path));
		return false;
	}
	snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s", value);
	return true;
}

/* node_exporter's textfile collector reads *.prom files from one directory; "" turns it off. */
static bool set_textfile(struct config *cfg, const char *value, char *want, size_t len)
{
	if ((value[0] && value[0] != '/') || strlen(value) >= sizeof(cfg->metrics_textfile)) {
		snprintf(want, len, "want an absolute path shorter than %zu bytes, or nothing (off)",
			 sizeof(cfg->metrics_textfile));
		return false;
	}
	snprintf(cfg->metrics_textfile, sizeof(cfg->metrics_textfile), "%s", value);
	return true;
}

/* "PORT" after the colon: 1-65535, digits only. */
static bool parse_port(const char *s, uint16_t *port)
{
	unsigned long v;

	if (!parse_uint(s, 1, 65535, &v))
		return false;
	*port = (uint16_t)v;
	return true;
}

/* "[IPV6]" or "[IPV6]:PORT" into out. Return: false when malformed. */
static bool parse_listen_v6(const char *text, struct config_listen *out)
{
	char host[INET6_ADDRSTRLEN];
	const char *close = strchr(text, ']');
	size_t n;

	if (!close)
		return false;
	n = (size_t)(close - (text + 1));
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, text + 1, n);
	host[n] = '\0';
	if (inet_pton(AF_INET6, host, out->addr) != 1)
		return false;
	out->family = AF_INET6;
	if (close[1] == '\0')
		return true;
	return close[1] == ':' && parse_port(close + 2, &out->port);
}

/* "IPV4" or "IPV4:PORT" into out. Return: false when malformed. */
static bool parse_listen_v4(const char *text, struct config_listen *out)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strchr(text, ':');
	size_t n = colon ? (size_t)(colon - text) : strlen(text);

	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, text, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, out->addr) != 1)
		return false;
	out->family = AF_INET;
	return !colon || parse_port(colon + 1, &out->port);
}

bool config_parse_listen(const char *text, struct config_listen *out, char *want, size_t len)
{
	struct config_listen l = { .on = true, .port = CONFIG_METRICS_PORT };
	bool ok;

	if (!text[0]) {
		memset(out, 0, sizeof(*out));
		return true;
	}
	if (text[0] == ':' || (text[0] == '*' && text[1] == ':')) {
		l.any = true;
		ok = parse_port(text + (text[0] == '*' ? 2 : 1), &l.port);
	} else if (text[0] == '[') {
		ok = parse_listen_v6(text, &l);
	} else {
		ok = parse_listen_v4(text, &l);
	}
	if (!ok) {
		/* An IPv6 address without brackets is the likely mistake: its colons hide the port. */
		snprintf(want, len, "want IPV4:PORT, [IPV6]:PORT, :PORT (every address), an address "
			 "alone (port %d), or nothing (off)%s", CONFIG_METRICS_PORT,
			 strchr(text, ':') != strrchr(text, ':') && text[0] != '[' ?
			 "; an IPv6 address goes in brackets" : "");
		return false;
	}
	*out = l;
	return true;
}

void config_listen_text(const struct config_listen *l, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "";

	if (!l->on) {
		snprintf(buf, len, "off");
		return;
	}
	if (l->any) {
		snprintf(buf, len, "*:%u", (unsigned)l->port);
		return;
	}
	inet_ntop(l->family, l->addr, host, sizeof(host));
	snprintf(buf, len, l->family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, (unsigned)l->port);
}

bool config_listen_same(const struct config_listen *a, const struct config_listen *b)
{
	char ta[64], tb[64];

	/* By the text: the struct's padding is not compared, and "off" equals "off". */
	config_listen_text(a, ta, sizeof(ta));
	config_listen_text(b, tb, sizeof(tb));
	return strcmp(ta, tb) == 0;
}

static bool set_listen(struct config *cfg, const char *value, char *want, size_t len)
{
	return config_parse_listen(value, &cfg->metrics_listen, want, len);
}

/* The list separators allowed in ports= and addresses=. */
static const char list_sep[] = " \t,";

/* Each word of a list value, in order, to add. Return: false with want set by add or here. */
static bool for_each_word(struct config *cfg, const char *value, char *want, size_t len,
			  bool (*add)(struct config *cfg, const char *word, char *want, size_t len))
{
	char buf[1024], *tok, *save = NULL;

	if (strlen(value) >= sizeof(buf)) {
		snprintf(want, len, "list too long");
		return false;
	}
	strcpy(buf, value);
	for (tok = strtok_r(buf, list_sep, &save); tok; tok = strtok_r(NULL, list_sep, &save))
		if (!add(cfg, tok, want, len))
			return false;
	return true;
}

static bool add_port(struct config *cfg, const char *word, char *want, size_t len)
{
	unsigned long port;

	if (!parse_uint(word, 1, 65535, &port)) {
		snprintf(want, len, "'%s' is not a port (1-65535)", word);
		return false;
	}
	if (cfg->n_ignore_ports == CONFIG_MAX_IGNORE) {
		snprintf(want, len, "more than %d entries", CONFIG_MAX_IGNORE);
		return false;
	}
	cfg->ignore_ports[cfg->n_ignore_ports++] = (uint16_t)port;
	return true;
}

static bool add_address(struct config *cfg, const char *word, char *want, size_t len)
{
	struct addr_match am = { 0 };

	if (inet_pton(AF_INET, word, am.addr) == 1) {
		am.family = AF_INET;
	} else if (inet_pton(AF_INET6, word, am.addr) == 1) {
		am.family = AF_INET6;
	} else {
		snprintf(want, len, "'%s' is not an IPv4 or IPv6 address", word);
		return false;
	}
	if (cfg->n_ignore_addrs == CONFIG_MAX_IGNORE) {
		snprintf(want, len, "more than %d entries", CONFIG_MAX_IGNORE);
		return false;
	}
	cfg->ignore_addrs[cfg->n_ignore_addrs++] = am;
	return true;
}

static bool add_ports(struct config *cfg, const char *value, char *want, size_t len)
{
	return for_each_word(cfg, value, want, len, add_port);
}

static bool add_addresses(struct config *cfg, const char *value, char *want, size_t len)
{
	return for_each_word(cfg, value, want, len, add_address);
}

/* Set k from value. Return: true, or false with want saying what k takes. */
static bool key_set(const struct config_key *k, struct config *cfg, const char *value, char *want, size_t len)
{
	unsigned long n;

	switch (k->kind) {
	case KEY_SECONDS:
		if (k->zero_is_off && strcmp(value, "0") == 0) {
			*key_field(cfg, k) = 0;
			return true;
		}
		if (parse_seconds_ms(value, k->min, k->max, key_field(cfg, k)))
			return true;
		snprintf(want, len, "want seconds from %g to %g%s", (double)k->min / 1000.0,
			 (double)k->max / 1000.0, k->note ? k->note : "");
		return false;
	case KEY_UINT:
		if (parse_uint(value, k->min, k->max, &n)) {
			*key_field(cfg, k) = (unsigned)n;
			return true;
		}
		snprintf(want, len, "want %s from %lu to %lu%s", k->unit, k->min, k->max, k->note ? k->note : "");
		return false;
	case KEY_SETTER:
		return k->set(cfg, value, want, len);
	}
	return false;
}

/* Return: the row of section's key name, or NULL. */
static const struct config_key *key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++)
		if (strcmp(config_keys[i].section, section) == 0 && strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

static bool section_known(const char *section)
{
	for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++)
		if (strcmp(config_keys[i].section, section) == 0)
			return true;
	return false;
}

void config_defaults(struct config *cfg)
{
	char want[128];

	memset(cfg, 0, sizeof(*cfg));
	diag_thresholds_default(&cfg->thr);
	/* The defaults are the table's own words: test_config checks that every one parses. */
	for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++)
		if (config_keys[i].dflt)
			(void)key_set(&config_keys[i], cfg, config_keys[i].dflt, want, sizeof(want));
}

bool config_set(struct config *cfg, const char *section, const char *name, const char *value,
		char *err, size_t errlen)
{
	const struct config_key *k = key_find(section, name);

	if (!k) {
		snprintf(err, errlen, "no key '%s' in [%s]", name, section);
		return false;
	}
	return key_set(k, cfg, value, err, errlen);
}

/*
 * A configuration file is a few hundred bytes; past this it is not one (and
 * a huge one must not make the daemon read it all). A line holds a key, its
 * '=' and a list of up to 1,023 bytes with room to spare.
 */
#define CONFIG_FILE_MAX (1024 * 1024)
#define CONFIG_LINE_MAX 2048

/* The text without its leading and trailing blanks (and a CR from a DOS editor). */
static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* One line's worth of work. Return: true to go on, false with ctx->msg set. */
static bool config_line(struct load_ctx *ctx, char *line, char *section, size_t seclen)
{
	const struct config_key *k;
	char *eq, *name, *value, *cut;
	char want[160];

	line = trim(line);
	if (!*line || *line == '#' || *line == ';')
		return true;
	if (*line == '[') {
		char *close = strchr(line, ']');

		const char *rest = close ? trim(close + 1) : NULL;

		/* After the ']' only a comment may follow. */
		if (!close || (*rest && *rest != ';' && *rest != '#') || (size_t)(close - line) >= seclen) {
			snprintf(ctx->msg, sizeof(ctx->msg), "syntax error (want '[section]')");
			return false;
		}
		*close = '\0';
		snprintf(section, seclen, "%s", trim(line + 1));
		/* An unknown section is an error even with no key under it: a typo hides keys. */
		if (!section_known(section)) {
			snprintf(ctx->msg, sizeof(ctx->msg), "unknown section [%.64s]", section);
			return false;
		}
		return true;
	}
	eq = strpbrk(line, "=:");
	if (!eq) {
		snprintf(ctx->msg, sizeof(ctx->msg), "syntax error (want 'key = value' or '[section]')");
		return false;
	}
	*eq = '\0';
	name = trim(line);
	value = eq + 1;
	/* "; comment" after a value, as the INI files of before allowed: only after a blank. */
	for (cut = value; (cut = strchr(cut, ';')); cut++)
		if (cut > value && (cut[-1] == ' ' || cut[-1] == '\t')) {
			*cut = '\0';
			break;
		}
	value = trim(value);
	if (!section[0]) {
		snprintf(ctx->msg, sizeof(ctx->msg), "unknown key '%.64s' outside any [section]", name);
		return false;
	}
	k = key_find(section, name);
	if (!k) {
		snprintf(ctx->msg, sizeof(ctx->msg), "unknown key '%.64s' in [%s]", name, section);
		return false;
	}
	if (key_set(k, ctx->cfg, value, want, sizeof(want)))
		return true;
	/* A long list is cut in the message, never the reason after it. */
	snprintf(ctx->msg, sizeof(ctx->msg), "[%s] %.64s = '%.40s%s': %s", section, name, value,
		 strlen(value) > 40 ? "..." : "", want);
	return false;
}

/*
 * Apply the text of a configuration file to ctx->cfg, line by line.
 * Return: 0, or the number of the first bad line with ctx->msg saying why.
 */
static int config_parse(struct load_ctx *ctx, const char *text, size_t len)
{
	char line[CONFIG_LINE_MAX + 1], section[64] = "";
	size_t off = 0;
	int lineno = 0;

	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;

		lineno++;
		if (n > CONFIG_LINE_MAX) {
			snprintf(ctx->msg, sizeof(ctx->msg), "line longer than %d bytes", CONFIG_LINE_MAX);
			return lineno;
		}
		memcpy(line, text + off, n);
		line[n] = '\0';
		if (strlen(line) != n) {
			snprintf(ctx->msg, sizeof(ctx->msg), "a NUL byte in the line");
			return lineno;
		}
		if (!config_line(ctx, line, section, sizeof(section)))
			return lineno;
		off += n + (nl ? 1 : 0);
	}
	return 0;
}

/*
 * The whole file, from a regular file only: a directory reads as empty and a
 * FIFO would block the daemon. Return: 0 with *text (caller frees), or -errno
 * with msg saying why.
 */
static int config_read(const char *path, char **text, size_t *len, char *msg, size_t msglen)
{
	struct stat st;
	ssize_t n;
	char *buf;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		e = errno;
		snprintf(msg, msglen, "%s", strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		snprintf(msg, msglen, "%s", strerror(e));
		return -e;
	}
	/* -f /dev/null is the usual way to say "no file, the defaults". */
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) {
		close(fd);
		*text = NULL;
		*len = 0;
		return 0;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CONFIG_FILE_MAX) {
		close(fd);
		snprintf(msg, msglen, "%s", !S_ISREG(st.st_mode) ? "not a regular file" :
			 "over 1 MiB: not a configuration file");
		return -EINVAL;
	}
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	/* One read past the size: a file that grew since fstat is still bounded. */
	n = read(fd, buf, CONFIG_FILE_MAX + 1);
	e = errno;
	close(fd);
	if (n < 0 || n > CONFIG_FILE_MAX) {
		free(buf);
		snprintf(msg, msglen, "%s", n < 0 ? strerror(e) : "grew past the size limit while read");
		return n < 0 ? -e : -EINVAL;
	}
	*text = buf;
	*len = (size_t)n;
	return 0;
}

int config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	struct load_ctx ctx = { .cfg = cfg };
	struct config saved = *cfg;
	char *text = NULL;
	size_t len = 0;
	int line, r;

	r = config_read(path, &text, &len, ctx.msg, sizeof(ctx.msg));
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, ctx.msg);
		return r;
	}
	line = config_parse(&ctx, text, len);
	free(text);
	if (line == 0)
		return 0;
	/* A bad file leaves the caller's configuration as it was. */
	*cfg = saved;
	snprintf(err, errlen, "%s:%d: %s", path, line, ctx.msg);
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
