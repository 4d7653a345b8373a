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
/*
 * The HTTP port of -m / [metrics] listen when the text names only an
 * address: 9110, in the Prometheus exporters' range 9100-9999. That range is
 * wholly allocated on Prometheus's "Default port allocations" wiki page; 9110
 * was the original Blackbox prober's, marked deprecated there, and its
 * successor, blackbox_exporter, uses 9115: no current exporter defaults to it.
 */
#define CONFIG_METRICS_PORT 9110


struct addr_match {
	uint8_t family;           /* AF_INET or AF_INET6 */
	uint8_t addr[16];
};

/* [metrics] listen: where the HTTP endpoint listens; off when !on. */
struct config_listen {
	bool on;
	bool any;                 /* ":PORT" or "*:PORT": every address, IPv6 and IPv4 */
	uint8_t family;           /* AF_INET or AF_INET6, when !any */
	uint8_t addr[16];
	uint16_t port;
};

/* [daemon] namespaces: follow every network namespace of the host. */
enum config_namespaces {
	CONFIG_NS_AUTO,   /* yes when running as root (setns needs CAP_SYS_ADMIN) */
	CONFIG_NS_YES,
	CONFIG_NS_NO,
};

/* [daemon] bpf: the eBPF tier (drop_event.h): who was dropped or refused, as it happens. */
enum config_bpf {
	CONFIG_BPF_AUTO,  /* on where the kernel, the build and the privileges allow; status says why not */
	CONFIG_BPF_YES,   /* on, or backlogd does not start */
	CONFIG_BPF_NO,
};

/* Every key's range and default: the table in config.c; [diagnose]'s defaults: diag_thresholds_default(). */
/* max_namespaces at most; the eBPF tier's map of watched namespaces holds as many. */
#define CONFIG_MAX_NAMESPACES 65536

struct config {
	unsigned tick_ms;         /* [daemon] interval, seconds (decimals allowed) */
	unsigned fast_ms;         /* [daemon] fast_interval: hot listeners sampled this often; 0 off */
	/*
	 * [daemon] listener_refresh: on a quiet tick the listeners are dumped
	 * at least this often (a moving counter or socket count dumps them at
	 * once); 0 every tick.
	 */
	unsigned listener_refresh_ms;
	unsigned quiet_secs;      /* [daemon] quiet_period, seconds */
	char socket_path[CONFIG_SOCKET_MAX]; /* [daemon] socket */
	unsigned client_timeout_ms; /* [daemon] client_timeout, seconds */
	struct diag_thresholds thr;   /* [diagnose] slow_accept_ticks, full_window_ticks, ... */
	enum config_namespaces namespaces;  /* [daemon] namespaces = auto|yes|no */
	unsigned namespace_scan_ticks;      /* [daemon] namespace_scan: rescan every N ticks */
	unsigned max_namespaces;      /* [daemon] max_namespaces: watched at most, the host's included (up to CONFIG_MAX_NAMESPACES) */
	enum config_bpf bpf;          /* [daemon] bpf = auto|yes|no; read at start only */
	unsigned deep_every_ticks;    /* [deep] every_ticks: 0 (default) = only when a signal asks */
	uint16_t ignore_ports[CONFIG_MAX_IGNORE];  /* [ignore] ports = 22 53 */
	size_t n_ignore_ports;
	struct addr_match ignore_addrs[CONFIG_MAX_IGNORE];  /* [ignore] addresses = 127.0.0.53 ::1 */
	size_t n_ignore_addrs;
	char metrics_textfile[CONFIG_TEXTFILE_MAX];  /* [metrics] textfile: written every tick; "" off */
	struct config_listen metrics_listen;  /* [metrics] listen = 127.0.0.1:9110 (-m) */
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

/*
 * Parse the address of [metrics] listen (and -m): "IPV4:PORT",
 * "[IPV6]:PORT", "IPV4" or "[IPV6]" (port CONFIG_METRICS_PORT), ":PORT" or
 * "*:PORT" (every address), "" (off). Return: true, or false with want
 * saying what the key takes.
 */
bool config_parse_listen(const char *text, struct config_listen *out, char *want, size_t len);

/* Return: true when a and b are the same address and port (both off included). */
bool config_listen_same(const struct config_listen *a, const struct config_listen *b);

/* The address as config_parse_listen reads it back ("[::1]:9110", "*:9110"), for messages. */
void config_listen_text(const struct config_listen *l, char *buf, size_t len);

/* Return: true when l's port or address is ignored by cfg. */
bool config_ignores(const struct config *cfg, const struct listener *l);

#endif
