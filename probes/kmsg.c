/* kmsg.c: follow /dev/kmsg and pick out the kernel lines that name a cause (SYN flood, conntrack full, TCP OOM, orphans) or a process the kernel killed. */
#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kmsg.h"
#include "safe_text.h"

/*
 * /dev/kmsg hands out one record per read() and fails with EINVAL when the
 * buffer is smaller than the record; records are at most
 * CONSOLE_EXT_LOG_MAX (8192) bytes. Twice that leaves room for the partial
 * line a FIFO or file (tests) can leave behind between reads.
 */
#define KMSG_REC_MAX 8192
#define KMSG_BUF (2 * KMSG_REC_MAX)

/*
 * Records taken in one kmsg_read. A kernel that logs without pause (a
 * driver stuck in a loop) must not keep the daemon's tick waiting; what
 * is left is read on the next call, the fd staying readable meanwhile.
 */
#define KMSG_READS_MAX 4096

struct kmsg {
	int fd;
	struct kmsg_seq seq;  /* where the reading stood, for the records an overrun lost */
	bool stream;       /* not the kmsg device: records may span reads */
	bool skipping;     /* in the middle of an overlong line of a stream */
	size_t len;        /* bytes of a partial line kept in buf */
	char buf[KMSG_BUF];
};

/* The message texts, exactly as the kernel writes them (see each). */
/* net/ipv4/tcp_input.c tcp_syn_flood_action(); tcp_input.c's pr_fmt adds "TCP: " before the proto */
static const char syn_flood[] = "Possible SYN flooding on port ";
/* net/netfilter/nf_conntrack_core.c __nf_conntrack_alloc(); pr_fmt adds "nf_conntrack: " again */
static const char ct_full[] = "nf_conntrack: table full, dropping packet";
/* net/ipv4/tcp.c tcp_check_oom(), pr_fmt "TCP: " */
static const char tcp_oom[] = "TCP: out of memory -- consider tuning tcp_mem";
static const char tcp_orphans[] = "TCP: too many orphaned sockets";

/* arch/x86/mm/fault.c show_signal_msg(): "%s%s[%d]: segfault at %lx ip %px sp %px error %lx" */
static const char segfault[] = "]: segfault ";
/* arch/x86/kernel/traps.c, pr_fmt "traps: ": "%s[%d] trap %s ip:..." and "%s[%d] general protection fault ip:..." */
static const char traps[] = "traps: ";
/* mm/oom_kill.c __oom_kill_process(): "%s: Killed process %d (%s) total-vm:..." after "Out of memory" or "Memory cgroup out of memory" */
static const char oom_killed[] = "Killed process ";

/* Parse a decimal u64 in [*p, end) up to stop. Return: false when not one. */
static bool parse_u64(const char **pp, const char *end, char stop, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (p == end || *p < '0' || *p > '9')
		return false;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (p == end || *p != stop)
		return false;
	*pp = p + 1;
	*out = v;
	return true;
}

static bool has_prefix(const char *p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0;
}

static bool equals(const char *p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(end - p) == n && memcmp(p, lit, n) == 0;
}

/*
 * The rest of a SYN flood line, after "on port ":
 *   6.x:  "127.0.0.1:8080. Sending cookies."  "[::1]:8080. Dropping request."
 *   <4.x: "8080. Sending cookies.  Check SNMP counters."
 * The address is checked with inet_pton so that only a real address is
 * handed on. Return: false when it does not read.
 */
static bool parse_syn_flood(const char *p, const char *end, struct kmsg_event *ev)
{
	const char *addr = NULL, *addr_end = NULL, *q;
	uint32_t port = 0;
	char tmp[KMSG_ADDR_MAX];
	unsigned char bin[16];
	size_t alen;
	int af = 0;

	if (p < end && *p == '[') {
		addr = p + 1;
		addr_end = memchr(addr, ']', (size_t)(end - addr));
		if (!addr_end || addr_end + 1 >= end || addr_end[1] != ':')
			return false;
		p = addr_end + 2;
		af = AF_INET6;
	} else {
		/* "ADDR:PORT." or "PORT.": a colon before the first ". " means an address */
		const char *stop = memmem(p, (size_t)(end - p), ". ", 2);
		const char *colon;

		if (!stop)
			return false;
		colon = memchr(p, ':', (size_t)(stop - p));
		if (colon) {
			addr = p;
			addr_end = colon;
			p = colon + 1;
			af = AF_INET;
		}
	}
	if (p == end || *p < '0' || *p > '9')
		return false;
	for (q = p; q < end && *q >= '0' && *q <= '9'; q++) {
		port = port * 10 + (uint32_t)(*q - '0');
		if (port > 65535)
			return false;
	}
	if (!has_prefix(q, end, ". "))
		return false;
	q += 2;
	if (has_prefix(q, end, "Sending cookies."))
		ev->cookies = true;
	else if (has_prefix(q, end, "Dropping request."))
		ev->cookies = false;
	else
		return false;

	ev->addr[0] = '\0';
	if (addr) {
		alen = (size_t)(addr_end - addr);
		if (alen == 0 || alen >= sizeof(tmp))
			return false;
		memcpy(tmp, addr, alen);
		tmp[alen] = '\0';
		if (inet_pton(af, tmp, bin) != 1)
			return false;
		memcpy(ev->addr, tmp, alen + 1);
	}
	ev->port = (uint16_t)port;
	return true;
}

/* A process's name as the kernel printed it, at most 15 bytes, neutralised by safe_text(). */
static void copy_comm(char out[KMSG_COMM_MAX], const char *p, const char *end)
{
	safe_text(out, KMSG_COMM_MAX, p, (size_t)(end - p));
}

/* A pid in [p, end): decimal digits, at least one, positive, fits an int. */
static bool parse_pid(const char *p, const char *end, int *pid)
{
	long v = 0;

	if (p == end)
		return false;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
		if (v > INT_MAX)
			return false;
	}
	*pid = (int)v;
	return v > 0;
}

/*
 * "COMM[PID]" in [p, close], close pointing at its ']'. comm may itself
 * hold '[': the pid is what follows the last one. Return: false when the
 * text is not that.
 */
static bool parse_comm_pid(const char *p, const char *close, struct kmsg_event *e)
{
	const char *open = close;

	while (open > p && open[-1] != '[')
		open--;
	if (open == p || open - 1 == p)
		return false;     /* no '[', or no comm before it */
	if (!parse_pid(open, close, &e->pid))
		return false;
	copy_comm(e->comm, p, open - 1);
	return true;
}

/* The signal x86's do_trap and do_general_protection deliver for the trap they name. */
static const char *trap_signal(const char *p, const char *end)
{
	static const struct { const char *text, *sig; } map[] = {
		{ "general protection fault", "SIGSEGV" },
		{ "trap divide error", "SIGFPE" },
		{ "trap invalid opcode", "SIGILL" },
		{ "trap int3", "SIGTRAP" },
		{ "trap stack segment", "SIGBUS" },
		{ "trap alignment check", "SIGBUS" },
		{ "trap overflow", "SIGSEGV" },
		{ "trap bounds", "SIGSEGV" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(map); i++)
		if (has_prefix(p, end, map[i].text))
			return map[i].sig;
	return "";
}

/*
 * A process the kernel killed: a fault with no handler ("segfault at",
 * "traps:"), or the OOM killer's victim. The kernel prints the first two
 * only while debug.exception-trace is 1 (the default), rate-limited.
 * Return: true with e filled, false when msg is none of them.
 */
static bool parse_death(const char *msg, const char *msg_end, struct kmsg_event *e)
{
	const char *hit, *p, *close;

	hit = memmem(msg, (size_t)(msg_end - msg), segfault, strlen(segfault));
	if (hit && !has_prefix(msg, msg_end, traps) && parse_comm_pid(msg, hit, e)) {
		e->kind = KMSG_SEGFAULT;
		snprintf(e->signal, sizeof(e->signal), "SIGSEGV");
		return true;
	}
	if (has_prefix(msg, msg_end, traps)) {
		p = msg + strlen(traps);
		for (close = memchr(p, ']', (size_t)(msg_end - p)); close;
		     close = memchr(close + 1, ']', (size_t)(msg_end - close - 1))) {
			if (close + 1 < msg_end && close[1] == ' ' && parse_comm_pid(p, close, e)) {
				e->kind = KMSG_TRAP;
				snprintf(e->signal, sizeof(e->signal), "%s", trap_signal(close + 2, msg_end));
				return true;
			}
		}
		return false;
	}
	hit = memmem(msg, (size_t)(msg_end - msg), oom_killed, strlen(oom_killed));
	/* Its own line on older kernels; after "...out of memory: " on newer ones. */
	if (!hit || (hit != msg && (hit - msg < 15 || strncasecmp(hit - 15, "out of memory: ", 15) != 0)))
		return false;
	p = hit + strlen(oom_killed);
	close = memmem(p, (size_t)(msg_end - p), " (", 2);
	if (!close || !parse_pid(p, close, &e->pid))
		return false;
	p = close + 2;
	/* comm may hold ") ": the one before " total-vm:" ends it when the line has it. */
	close = memmem(p, (size_t)(msg_end - p), ") total-vm:", strlen(") total-vm:"));
	if (!close)
		close = memchr(p, ')', (size_t)(msg_end - p));
	if (!close || close == p)
		return false;
	copy_comm(e->comm, p, close);
	e->kind = KMSG_OOM_KILL;
	snprintf(e->signal, sizeof(e->signal), "SIGKILL");
	return true;
}

/*
 * "PRI,SEQ,TS_USEC,FLAGS[,more...];MESSAGE\n[ KEY=VALUE\n...]". Fields
 * after FLAGS (",caller=T123" with CONFIG_PRINTK_CALLER, and whatever a
 * later kernel adds) are skipped, as Documentation/ABI/testing/dev-kmsg
 * asks. Only facility 0 counts: the kernel never lets user space write
 * with facility LOG_KERN, so a root process echoing a fake "table full"
 * into /dev/kmsg cannot raise a finding.
 */
int kmsg_parse_record(const char *rec, size_t len, struct kmsg_event *ev)
{
	const char *p = rec, *end = rec + len, *semi, *msg, *msg_end;
	uint64_t pri, seq, ts;
	struct kmsg_event e;

	semi = memchr(rec, ';', len);
	if (!semi || memchr(rec, '\n', (size_t)(semi - rec)) ||
	    memchr(rec, '\0', (size_t)(semi - rec)))
		return -EINVAL;
	if (!parse_u64(&p, semi, ',', &pri) || !parse_u64(&p, semi, ',', &seq))
		return -EINVAL;
	/* TS is followed by ',' then FLAGS; FLAGS by ',' or ';' */
	if (!parse_u64(&p, semi, ',', &ts))
		return -EINVAL;
	if (p == semi || *p == ',')
		return -EINVAL;    /* an empty FLAGS field */
	msg = semi + 1;
	msg_end = memchr(msg, '\n', (size_t)(end - msg));
	if (!msg_end)
		msg_end = end;   /* the newline is the record's end; a caller may have cut it */
	/* The kernel escapes control bytes as \xNN: a raw NUL is not its text. */
	if (memchr(msg, '\0', (size_t)(msg_end - msg)))
		return -EINVAL;
	if (pri >> 3 != 0)
		return 0;

	memset(&e, 0, sizeof(e));
	e.seq = seq;
	e.ts_usec = ts;
	if (equals(msg, msg_end, tcp_oom)) {
		e.kind = KMSG_TCP_OOM;
	} else if (equals(msg, msg_end, tcp_orphans)) {
		e.kind = KMSG_ORPHANS;
	} else if (equals(msg, msg_end, ct_full) ||
		   (has_prefix(msg, msg_end, "nf_conntrack: ") &&
		    equals(msg + strlen("nf_conntrack: "), msg_end, ct_full))) {
		/* 6.x prints the module name twice; older kernels once */
		e.kind = KMSG_CONNTRACK_FULL;
	} else if (parse_death(msg, msg_end, &e)) {
		/* filled in */
	} else {
		/*
		 * "TCP: request_sock_TCP: Possible SYN flooding on port ..." on
		 * 4.x-6.x (the proto is the request sock slab name); "TCP: TCP:"
		 * or no prefix on others. Only the "TCP: " pr_fmt is required.
		 */
		const char *hit;

		if (!has_prefix(msg, msg_end, "TCP: "))
			return 0;
		hit = memmem(msg, (size_t)(msg_end - msg), syn_flood, strlen(syn_flood));
		if (!hit)
			return 0;
		e.kind = KMSG_SYN_FLOOD;
		if (!parse_syn_flood(hit + strlen(syn_flood), msg_end, &e))
			return -EINVAL;
	}
	*ev = e;
	return 1;
}

int kmsg_open(struct kmsg **out, const char *path)
{
	struct kmsg *k;
	struct stat st;
	int err;

	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (k->fd < 0) {
		err = -errno;
		goto out_free;
	}
	if (fstat(k->fd, &st) < 0) {
		err = -errno;
		goto out_close;
	}
	/* Only the kmsg device returns one record per read. */
	k->stream = !S_ISCHR(st.st_mode);
	if (S_ISFIFO(st.st_mode)) {
		/*
		 * A FIFO whose last writer closed reports a hang-up for ever, and
		 * a poll loop would spin on it. Holding it open for writing as
		 * well keeps one writer, so it never hangs up.
		 */
		int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);

		if (fd < 0) {
			err = -errno;
			goto out_close;
		}
		close(k->fd);
		k->fd = fd;
	}
	/*
	 * Start after the last record: the boot log is history, not news. A
	 * FIFO (ESPIPE) has no position and holds only what is written after
	 * it is opened, which is the same thing.
	 */
	if (lseek(k->fd, 0, SEEK_END) < 0 && errno != ESPIPE) {
		err = -errno;
		goto out_close;
	}
	*out = k;
	return 0;

out_close:
	close(k->fd);
out_free:
	free(k);
	return err;
}

void kmsg_close(struct kmsg *k)
{
	if (!k)
		return;
	close(k->fd);
	free(k);
}

int kmsg_fd(const struct kmsg *k)
{
	return k->fd;
}

void kmsg_seq_overrun(struct kmsg_seq *s)
{
	s->overrun = true;
}

unsigned kmsg_seq_note(struct kmsg_seq *s, uint64_t seq)
{
	uint64_t lost = 0;

	if (s->overrun) {
		/*
		 * The kernel resumes at its oldest record: everything between the
		 * last one read and this one was overwritten. Before any record
		 * was read the count is unknown but at least one.
		 */
		if (!s->known)
			lost = 1;
		else if (seq > s->last + 1)
			lost = seq - s->last - 1;
		s->overrun = false;
	}
	s->last = seq;
	s->known = true;
	return lost > UINT_MAX ? UINT_MAX : (unsigned)lost;
}

/* The SEQ of a record's "PRI,SEQ,..." header. Return: false when it has none. */
static bool record_seq(const char *rec, size_t len, uint64_t *seq)
{
	const char *p = rec, *semi = memchr(rec, ';', len);
	uint64_t pri;

	return semi && parse_u64(&p, semi, ',', &pri) && parse_u64(&p, semi, ',', seq);
}

/* Note the record's place for the overrun count, and hand it to the caller's array or count it as dropped. */
static void take(struct kmsg *k, const char *rec, size_t len, struct kmsg_event *ev, size_t max,
		 size_t *n, unsigned *dropped, unsigned *lost)
{
	struct kmsg_event e;
	uint64_t seq;
	unsigned gap;

	if (record_seq(rec, len, &seq)) {
		gap = kmsg_seq_note(&k->seq, seq);
		*lost = *lost > UINT_MAX - gap ? UINT_MAX : *lost + gap;
	}
	if (kmsg_parse_record(rec, len, &e) != 1)
		return;
	if (*n < max)
		ev[(*n)++] = e;
	else
		(*dropped)++;
}

/*
 * A stream (FIFO, file) carries records as lines; one read may end in the
 * middle of one. Parse every whole line that is not a continuation
 * (" KEY=VALUE") line and keep the partial tail for the next read. A line
 * that fills the whole buffer is no record the kernel writes: drop it up
 * to its newline.
 */
static void take_stream(struct kmsg *k, struct kmsg_event *ev, size_t max, size_t *n,
			unsigned *dropped, unsigned *lost)
{
	char *p = k->buf, *end = k->buf + k->len;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			break;
		if (k->skipping)
			k->skipping = false;
		else if (*p != ' ')
			take(k, p, (size_t)(nl + 1 - p), ev, max, n, dropped, lost);
		p = nl + 1;
	}
	k->len = (size_t)(end - p);
	if (k->len == sizeof(k->buf)) {
		k->skipping = true;
		k->len = 0;
	} else if (k->len && p != k->buf) {
		memmove(k->buf, p, k->len);
	}
}

/*
 * *dropped and *lost are set to this call's counts (either may be NULL).
 * A read error other than EAGAIN/EPIPE ends the call: it returns what was
 * stored, or -errno when nothing was.
 */
int kmsg_read(struct kmsg *k, struct kmsg_event *ev, size_t max, unsigned *dropped, unsigned *lost)
{
	unsigned drop_n = 0, lost_n = 0;
	size_t n = 0;
	int err = 0;

	if (max > INT_MAX)
		max = INT_MAX;    /* the count is returned as an int */
	for (unsigned i = 0; i < KMSG_READS_MAX; i++) {
		ssize_t r;

		if (k->stream)
			r = read(k->fd, k->buf + k->len, sizeof(k->buf) - k->len);
		else
			r = read(k->fd, k->buf, sizeof(k->buf));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EPIPE) {
				/*
				 * Overwritten before we read them; the next read resumes at
				 * the oldest record, and the sequence gap says how many.
				 */
				kmsg_seq_overrun(&k->seq);
				continue;
			}
			err = -errno;
			break;
		}
		if (r == 0)
			break;      /* a FIFO with no writer, the end of a file */
		if (k->stream) {
			k->len += (size_t)r;
			take_stream(k, ev, max, &n, &drop_n, &lost_n);
		} else {
			take(k, k->buf, (size_t)r, ev, max, &n, &drop_n, &lost_n);
		}
	}
	if (dropped)
		*dropped = drop_n;
	if (lost)
		*lost = lost_n;
	if (err && n == 0)
		return err;
	return (int)n;
}
