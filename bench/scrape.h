/* scrape.h: one scrape of the daemon's metrics and one call of the by-hand reference, for bench/detect. */
#ifndef BENCH_SCRAPE_H
#define BENCH_SCRAPE_H

#include <stdbool.h>
#include <stddef.h>

struct scrape_cost {
	size_t bytes;              /* of the exposition's body */
	size_t series;             /* its sample lines */
	long long client_cpu_ns;   /* the client process's own CPU (0 when in-process) */
};

/* `backlogctl -S sock metrics`, its output counted. Return: 0, or -1 when it failed. */
int scrape_ctl(const char *backlogctl, const char *sock, struct scrape_cost *c);

/* GET http://addr:port/metrics from this process. Return: 0 on 200, or -1. */
int scrape_http(const char *addr, unsigned port, struct scrape_cost *c);

/* `ss -ltnm` then `nstat -az`, output to /dev/null: what a person runs by hand. */
int scrape_reference(struct scrape_cost *c);

#endif
