/* procexit.c: follow the kernel's process connector and keep the processes that died by a signal or exited non-zero. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include "procexit.h"

/*
 * Since 6.6 a listener may ask for only some events (struct proc_input
 * instead of the bare op); an older kernel drops such a request unread.
 * PROC_EVENT_NONZERO_EXIT asks for the exits whose exit_code is not 0:
 * the only ones backlogd wants, and on a host that forks a lot the
 * difference between a quiet socket and an overrun one.
 */
#define PROCEXIT_EVENT_NONZERO_EXIT 0x20000000u
struct procexit_input {
	uint32_t mcast_op;
	uint32_t event_type;
};

/* Connector messages are one small proc_event each; this holds any of them. */
#define PROCEXIT_RECV_BUF 1024
/* Room for a second of exits on a busy host; the kernel doubles it. */
#define PROCEXIT_RCVBUF (1024 * 1024)

struct procexit {
	int fd;
	struct proc_exit ev[PROCEXIT_EVENTS_MAX];
	/* recv() wants aligned room for a netlink header. */
	char buf[PROCEXIT_RECV_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
};

static const struct {
	int sig;
	const char *name;
} signal_names[] = {
	{ SIGHUP, "SIGHUP" }, { SIGINT, "SIGINT" }, { SIGQUIT, "SIGQUIT" }, { SIGILL, "SIGILL" },
	{ SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" }, { SIGBUS, "SIGBUS" }, { SIGFPE, "SIGFPE" },
	{ SIGKILL, "SIGKILL" }, { SIGUSR1, "SIGUSR1" }, { SIGSEGV, "SIGSEGV" },
	{ SIGUSR2, "SIGUSR2" }, { SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" },
	{ SIGTERM, "SIGTERM" }, { SIGSTKFLT, "SIGSTKFLT" }, { SIGXCPU, "SIGXCPU" },
	{ SIGXFSZ, "SIGXFSZ" }, { SIGVTALRM, "SIGVTALRM" }, { SIGPROF, "SIGPROF" },
	{ SIGIO, "SIGIO" }, { SIGPWR, "SIGPWR" }, { SIGSYS, "SIGSYS" },
};

static void signal_name(int sig, char *out, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++) {
		if (signal_names[i].sig == sig) {
			snprintf(out, len, "%s", signal_names[i].name);
			return;
		}
	}
	snprintf(out, len, "SIG%d", sig);
}

/* exit_code is the wait status the parent will read (task->exit_code). */
static void exit_from_status(int pid, uint32_t status, struct proc_exit *e)
{
	int st = (int)status;

	memset(e, 0, sizeof(*e));
	e->pid = pid;
	if (WIFSIGNALED(st)) {
		e->status = -1;
		signal_name(WTERMSIG(st), e->signal, sizeof(e->signal));
		e->core_dumped = WCOREDUMP(st);
	} else {
		e->status = WEXITSTATUS(st);
	}
}

/* One connector message (the payload after the netlink header). */
static void parse_one(const char *p, size_t len, struct proc_exit *ev, size_t max, size_t *n,
		      unsigned *dropped)
{
	const size_t need = offsetof(struct proc_event, event_data.exit.exit_signal);
	struct cn_msg cn;
	struct proc_event pe;

	if (len < sizeof(cn))
		return;
	memcpy(&cn, p, sizeof(cn));
	if (cn.id.idx != CN_IDX_PROC || cn.id.val != CN_VAL_PROC)
		return;
	if (cn.len > len - sizeof(cn))
		return;
	/* A kernel may send more fields than ours knows; the exit's first four are all we read. */
	if (cn.len < need)
		return;
	memset(&pe, 0, sizeof(pe));
	memcpy(&pe, p + sizeof(cn), cn.len < sizeof(pe) ? cn.len : sizeof(pe));
	if (pe.what != PROC_EVENT_EXIT || pe.event_data.exit.exit_code == 0)
		return;
	/* A thread's exit is not its process's: only the group leader (pid == tgid) speaks for it. */
	if (pe.event_data.exit.process_pid != pe.event_data.exit.process_tgid)
		return;
	if (*n >= max) {
		(*dropped)++;
		return;
	}
	exit_from_status(pe.event_data.exit.process_tgid, pe.event_data.exit.exit_code, &ev[(*n)++]);
}

int procexit_parse(const void *buf, size_t len, struct proc_exit *ev, size_t max, size_t *n,
		   unsigned *dropped)
{
	const char *p = buf;
	size_t off = 0;

	if (len < sizeof(struct nlmsghdr))
		return -EBADMSG;
	while (off + sizeof(struct nlmsghdr) <= len) {
		struct nlmsghdr h;

		memcpy(&h, p + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len - off)
			return off == 0 ? -EBADMSG : 0;
		if (h.nlmsg_type != NLMSG_ERROR && h.nlmsg_type != NLMSG_NOOP)
			parse_one(p + off + NLMSG_HDRLEN, h.nlmsg_len - NLMSG_HDRLEN, ev, max, n,
				  dropped);
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
	return 0;
}

/* Send one control request (the bare op, or op and event mask) to the connector. */
static int send_op(int fd, const void *data, uint16_t len)
{
	char msg[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(struct procexit_input))]
		__attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *h = (struct nlmsghdr *)msg;
	struct cn_msg *cn = (struct cn_msg *)NLMSG_DATA(h);

	memset(msg, 0, sizeof(msg));
	h->nlmsg_len = (uint32_t)NLMSG_LENGTH(sizeof(*cn) + len);
	h->nlmsg_type = NLMSG_DONE;
	h->nlmsg_pid = 0;
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = len;
	memcpy(cn->data, data, len);
	if (send(fd, msg, h->nlmsg_len, 0) < 0)
		return -errno;
	return 0;
}

/*
 * The kernel acknowledges a subscription it took with a PROC_EVENT_NONE
 * message, queued before send() returns; one it ignores (a caller in
 * another pid or user namespace, whose pids would not be ours) gets none.
 * Events that came first are passed over: nothing is being followed yet.
 * Return: 0 when acknowledged, the kernel's -errno, or -EPERM for silence.
 */
static int subscribed(int fd)
{
	char buf[PROCEXIT_RECV_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	const size_t at = NLMSG_HDRLEN + sizeof(struct cn_msg);
	unsigned i;

	for (i = 0; i < 256; i++) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);
		struct proc_event pe;

		if (r < 0 && (errno == EINTR || errno == ENOBUFS))
			continue;
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -EPERM : -errno;
		if ((size_t)r < at + offsetof(struct proc_event, event_data.ack.err) + 4)
			continue;
		memcpy(&pe, buf + at, offsetof(struct proc_event, event_data.ack.err) + 4);
		if (pe.what == PROC_EVENT_NONE)
			return pe.event_data.ack.err ? -(int)pe.event_data.ack.err : 0;
	}
	return -EPERM;
}

/*
 * A connector socket subscribed to process events, in the calling thread's
 * network namespace. Return: the fd or -errno (ECONNREFUSED outside
 * init_net: there is no connector there).
 */
static int connector_socket(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
	uint32_t op = PROC_CN_MCAST_LISTEN;
	struct procexit_input in = { PROC_CN_MCAST_LISTEN, PROCEXIT_EVENT_NONZERO_EXIT };
	int fd, r, sz = PROCEXIT_RCVBUF;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto out_close;
	}
	/* FORCE passes rmem_max as root; without it the plain request is capped, which is fine. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	/* The bare op subscribes on every kernel; the mask then narrows it where understood. */
	r = send_op(fd, &op, sizeof(op));
	if (r == 0)
		r = subscribed(fd);
	if (r < 0)
		goto out_close;
	(void)send_op(fd, &in, sizeof(in));
	return fd;

out_close:
	close(fd);
	return r;
}

struct open_job {
	const char *netns;
	int result;      /* fd or -errno */
};

/* Runs in a thread of its own: setns changes only the calling thread, which then ends. */
static void *open_in_netns(void *arg)
{
	struct open_job *j = arg;
	int nsfd = open(j->netns, O_RDONLY | O_CLOEXEC);

	if (nsfd < 0) {
		j->result = -errno;
		return NULL;
	}
	if (setns(nsfd, CLONE_NEWNET) < 0)
		j->result = -errno;
	else
		j->result = connector_socket();
	close(nsfd);
	return NULL;
}

int procexit_open(struct procexit **out, const char *init_netns)
{
	struct procexit *p;
	int fd = connector_socket();

	if (fd == -ECONNREFUSED && init_netns) {
		struct open_job j = { init_netns, -EINVAL };
		pthread_t th;
		int r = pthread_create(&th, NULL, open_in_netns, &j);

		if (r != 0)
			return -r;
		pthread_join(th, NULL);
		fd = j.result;
	}
	if (fd < 0)
		return fd;
	p = calloc(1, sizeof(*p));
	if (!p) {
		close(fd);
		return -ENOMEM;
	}
	p->fd = fd;
	*out = p;
	return 0;
}

void procexit_close(struct procexit *p)
{
	uint32_t op = PROC_CN_MCAST_IGNORE;

	if (!p)
		return;
	/* Older kernels count listeners and send events while any is left. */
	(void)send_op(p->fd, &op, sizeof(op));
	close(p->fd);
	free(p);
}

int procexit_read(struct procexit *p, const struct proc_exit **ev, unsigned *lost)
{
	size_t n = 0;
	unsigned dropped = 0, i;

	*ev = p->ev;
	for (i = 0; i < PROCEXIT_EVENTS_MAX; i++) {
		ssize_t r = recv(p->fd, p->buf, sizeof(p->buf), 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				(*lost)++;
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		/* A malformed message is one event less, not a failed read. */
		(void)procexit_parse(p->buf, (size_t)r, p->ev, PROCEXIT_EVENTS_MAX, &n, &dropped);
	}
	return (int)n;
}
