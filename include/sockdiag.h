/* sockdiag.h: LISTEN sockets from NETLINK_SOCK_DIAG (inet_diag), IPv4 and IPv6. */
#ifndef BACKLOGD_SOCKDIAG_H
#define BACKLOGD_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>
#include <linux/inet_diag.h>
#include "listener.h"

struct sockdiag;

/* Return: 0 or -errno. */
int sockdiag_open(struct sockdiag **out);
void sockdiag_close(struct sockdiag *sd);

/*
 * Return: what the kernel said about the last failed dump on sd (listener,
 * ports or deep), beyond its errno: printable ASCII for a log line, "" when
 * it said nothing or the dump succeeded. Probes do not log; a caller that
 * does appends this to its line.
 */
const char *sockdiag_ext_ack(const struct sockdiag *sd);

/*
 * Dump every TCP listener (AF_INET then AF_INET6) into out, which is cleared
 * first. Entries are de-duplicated by cookie; ENOBUFS and interrupted dumps
 * are redone a few times. Return: 0 or -errno.
 */
int sockdiag_dump_listeners(struct sockdiag *sd, struct listener_set *out);

/*
 * The same without dropping a listener the dump showed twice: for a caller
 * that matches by cookie anyway (the monitor, through track_tick), which
 * spares a sort and a scratch array as big as the dump every tick.
 */
int sockdiag_dump_listeners_raw(struct sockdiag *sd, struct listener_set *out);

/*
 * The extensions that dump asks for (idiag_ext): SKMEMINFO alone, for the
 * drop count. The bench's floor sends the same request.
 */
#define SOCKDIAG_LISTEN_EXT (1U << (INET_DIAG_SKMEMINFO - 1))

/*
 * Parse a buffer of netlink messages as received from an inet_diag dump
 * (one or more recv() worth, concatenated), appending listeners to out and
 * skipping duplicates by cookie and malformed entries (counted in
 * out->skipped). For tests fed with recorded dumps.
 * Return: 1 when NLMSG_DONE was seen, 0 when more is expected, -errno on an
 * NLMSG_ERROR from the kernel or a buffer that is not netlink at all.
 */
int sockdiag_parse(const void *buf, size_t len, struct listener_set *out);

/* Ports one sockdiag_dump_ports call takes at most. */
#define SOCKDIAG_MAX_PORTS 64

/*
 * The listeners on the given ports only (IPv4 and IPv6), with their queues
 * and drops, for sampling hot listeners between ticks: one dump per family
 * for all the ports, the kernel filtering them out by bytecode. ports are in
 * host byte order; n is 1 to SOCKDIAG_MAX_PORTS. out is cleared first, and
 * is empty on error. Retries as sockdiag_dump_listeners.
 * Return: 0, -EINVAL for n out of range, or -errno.
 */
int sockdiag_dump_ports(struct sockdiag *sd, const uint16_t *ports, size_t n,
			struct listener_set *out);

#endif
