/* config.h: /etc/backlogd/backlogd.conf (INI, read by config.c), every key with a default. */
#ifndef BACKLOGD_CONFIG_H
#define BACKLOGD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "diagnose.h"
#include "listener.h"

#define CONFIG_DEFAULT_PATH SYSCONFDIR "/backlogd/backlogd.conf"
#define CONFIG_DEFAULT_SOCKET RUNSTATEDIR "/backlogd/backlogd.sock"
#define CONFIG_MAX_IGNORE 64
#define CONFIG_SOCKET_MAX 108     /* sizeof(sun_path) */
#define CONFIG_TEXTFILE_MAX 256

struct addr_match {
	uint8_t family;           /* AF_INET or AF_INET6 */
	uint8_t addr[16];
};

/* [daemon] namespaces: follow every network namespace of the host. */
enum config_namespaces {
	CONFIG_NS_AUTO,   /* yes when running as root (setns needs CAP_SYS_ADMIN) */
	CONFIG_NS_YES,
	CONFIG_NS_NO,
};

/* Every key's range and default: the table in config.c; [diagnose]'s defaults: diag_thresholds_default(). */
struct config {
	unsigned tick_ms;         /* [daemon] interval, seconds (decimals allowed) */
	unsigned fast_ms;         /* [daemon] fast_interval: hot listeners sampled this often; 0 off */
	unsigned quiet_secs;      /* [daemon] quiet_period, seconds */
	char socket_path[CONFIG_SOCKET_MAX]; /* [daemon] socket */
	unsigned client_timeout_ms; /* [daemon] client_timeout, seconds */
	struct diag_thresholds thr;   /* [diagnose] slow_accept_ticks, full_window_ticks, ... */
	enum config_namespaces namespaces;  /* [daemon] namespaces = auto|yes|no */
	unsigned namespace_scan_ticks;      /* [daemon] namespace_scan: rescan every N ticks */
	unsigned max_namespaces;      /* [daemon] max_namespaces: watched at most, the host's included */
	unsigned deep_every_ticks;    /* [deep] every_ticks: 0 = only when a signal asks */
	uint16_t ignore_ports[CONFIG_MAX_IGNORE];  /* [ignore] ports = 22 53 */
	size_t n_ignore_ports;
	struct addr_match ignore_addrs[CONFIG_MAX_IGNORE];  /* [ignore] addresses = 127.0.0.53 ::1 */
	size_t n_ignore_addrs;
	char metrics_textfile[CONFIG_TEXTFILE_MAX];  /* [metrics] textfile: written every tick; "" off */
};

/* Fill cfg with every key's default. */
void config_defaults(struct config *cfg);

/*
 * Set one key from its text, as a line of the file would (the command
 * line's -i and -S use it). Return: true, or false with err saying what
 * the key wants ("want seconds from 0.1 to 3600") or that there is no
 * such key.
 */
bool config_set(struct config *cfg, const char *section, const char *key, const char *value,
		char *err, size_t errlen);

/*
 * Load path into cfg (which starts from the defaults). An unknown section or
 * key, a bad value or a syntax error is an error; err then says
 * "FILE:LINE: what". Return: 0, -ENOENT when the file does not exist (err
 * set too), or -EINVAL.
 */
int config_load(const char *path, struct config *cfg, char *err, size_t errlen);

/* Return: true when l's port or address is ignored by cfg. */
bool config_ignores(const struct config *cfg, const struct listener *l);

#endif
