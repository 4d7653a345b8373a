/* kmsg.h: the kernel log lines that name a cause, followed from /dev/kmsg. */
#ifndef BACKLOGD_KMSG_H
#define BACKLOGD_KMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kmsg_kind {
	KMSG_SYN_FLOOD,          /* "Possible SYN flooding on port [ADDR]:PORT. Sending cookies." / "Dropping request." */
	KMSG_CONNTRACK_FULL,     /* "nf_conntrack: table full, dropping packet" */
	KMSG_TCP_OOM,            /* "TCP: out of memory -- consider tuning tcp_mem" */
	KMSG_ORPHANS,            /* "TCP: too many orphaned sockets" */
	/* A process killed by the kernel: what tells a crash from a restart (listener-gap). */
	KMSG_SEGFAULT,           /* "COMM[PID]: segfault at ADDR ip ..." (SIGSEGV, no handler) */
	KMSG_TRAP,               /* "traps: COMM[PID] general protection fault ip:..." / "... trap divide error ..." */
	KMSG_OOM_KILL,           /* "Out of memory: Killed process PID (COMM) ..." (SIGKILL) */
};

#define KMSG_ADDR_MAX 48
#define KMSG_COMM_MAX 16

/* Return: true for the kinds that say a process died (they carry pid, comm and signal). */
static inline bool kmsg_is_death(enum kmsg_kind k)
{
	return k == KMSG_SEGFAULT || k == KMSG_TRAP || k == KMSG_OOM_KILL;
}

struct kmsg_event {
	enum kmsg_kind kind;
	uint64_t seq;            /* the record's sequence number */
	uint64_t ts_usec;        /* the record's timestamp, usec since boot */
	/* KMSG_SYN_FLOOD only: */
	uint16_t port;           /* 0 when the line named none */
	char addr[KMSG_ADDR_MAX];/* "127.0.0.1", "::1", "" when none (older kernels name only the port) */
	bool cookies;            /* "Sending cookies" (true) or "Dropping request" (false) */
	/*
	 * The deaths only: the process as the kernel names it (the pid in the
	 * initial pid namespace; for a fault, the thread's id and name),
	 * comm with anything but printable ASCII as '?', and the signal it
	 * died of ("SIGSEGV", "SIGFPE", "SIGILL", "SIGBUS", "SIGTRAP",
	 * "SIGKILL"; "" unknown).
	 */
	int pid;
	char comm[KMSG_COMM_MAX];
	char signal[10];
};

/*
 * Parse one /dev/kmsg record ("PRI,SEQ,TS,FLAGS;message\n" plus optional
 * continuation lines). Return: 1 and *ev when the message names a cause, 0
 * when it is another message, -EINVAL when the record is malformed.
 */
int kmsg_parse_record(const char *rec, size_t len, struct kmsg_event *ev);

struct kmsg;

/*
 * Where reading stood in the kernel's record sequence. After an overrun
 * (EPIPE: the ring overwrote records not yet read) the next record's
 * sequence number says how many were lost; an EPIPE is one event however
 * many records it lost.
 */
struct kmsg_seq {
	uint64_t last;      /* the latest record's sequence number */
	bool known;         /* a record was read: last is set */
	bool overrun;       /* an EPIPE came since */
};

/* An EPIPE came: the next record noted measures what was lost. */
void kmsg_seq_overrun(struct kmsg_seq *s);
/* Note a record read. Return: the records lost just before it (0 but after an overrun). */
unsigned kmsg_seq_note(struct kmsg_seq *s, uint64_t seq);

/*
 * Open path (/dev/kmsg in production) non-blocking, positioned at the end:
 * what the kernel said before backlogd started is not replayed as news.
 * Return: 0 or -errno (EPERM without CAP_SYSLOG: the daemon runs without it).
 */
int kmsg_open(struct kmsg **out, const char *path);
void kmsg_close(struct kmsg *k);
/* The fd to poll for input. */
int kmsg_fd(const struct kmsg *k);

/*
 * Read every record available now without blocking; append the ones that
 * name a cause to ev[] (up to max; the rest are counted in *dropped).
 * Records overwritten before we read them (EPIPE) are counted in *lost
 * by the sequence gap they leave, and reading resumes. Return: number of
 * events stored, or -errno.
 */
int kmsg_read(struct kmsg *k, struct kmsg_event *ev, size_t max, unsigned *dropped, unsigned *lost);

#endif
