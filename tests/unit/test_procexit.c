/* test_procexit.c: the process connector's messages, built byte by byte as the kernel sends them, what counts as a crash, and the live connector. */
#include "base.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include <criterion/criterion.h>

#include "procexit.h"
#include "track.h"

/* Room for a few messages, as one recv (or a recording) holds them. */
struct msgbuf {
	unsigned char b[2048];
	size_t len;
};

/*
 * Append one connector message: a netlink header, the cn_msg, and the
 * first plen bytes of ev (a kernel with fewer fields sends fewer).
 */
static void put_msg(struct msgbuf *m, uint32_t idx, const struct proc_event *ev, size_t plen)
{
	struct nlmsghdr h;
	struct cn_msg cn;
	size_t len = NLMSG_LENGTH(sizeof(cn) + plen);

	cr_assert_leq(m->len + NLMSG_ALIGN(len), sizeof(m->b));
	memset(&h, 0, sizeof(h));
	h.nlmsg_len = (uint32_t)len;
	h.nlmsg_type = NLMSG_DONE;
	memset(&cn, 0, sizeof(cn));
	cn.id.idx = idx;
	cn.id.val = CN_VAL_PROC;
	cn.len = (uint16_t)plen;
	memcpy(m->b + m->len, &h, sizeof(h));
	memcpy(m->b + m->len + NLMSG_HDRLEN, &cn, sizeof(cn));
	memcpy(m->b + m->len + NLMSG_HDRLEN + sizeof(cn), ev, plen);
	m->len += NLMSG_ALIGN(len);
}

static void put_exit(struct msgbuf *m, int pid, int tgid, uint32_t code)
{
	struct proc_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.what = PROC_EVENT_EXIT;
	ev.event_data.exit.process_pid = pid;
	ev.event_data.exit.process_tgid = tgid;
	ev.event_data.exit.exit_code = code;
	ev.event_data.exit.exit_signal = SIGCHLD;
	put_msg(m, CN_IDX_PROC, &ev, sizeof(ev));
}

Test(procexit, signals_and_statuses_from_the_wait_status)
{
	struct msgbuf m = { .len = 0 };
	struct proc_exit ev[8];
	size_t n = 0;
	unsigned dropped = 0;

	put_exit(&m, 100, 100, SIGKILL);                 /* kill -9 */
	put_exit(&m, 101, 101, 3 << 8);                  /* exit(3) */
	put_exit(&m, 102, 102, SIGABRT | 0x80);          /* abort(), core dumped */
	put_exit(&m, 103, 103, SIGTERM);                 /* systemctl stop, no handler */
	cr_assert_eq(procexit_parse(m.b, m.len, ev, 8, &n, &dropped), 0);
	cr_assert_eq(n, 4);
	cr_assert_eq(dropped, 0);
	cr_assert_eq(ev[0].pid, 100);
	cr_assert_eq(ev[0].status, -1);
	cr_assert_str_eq(ev[0].signal, "SIGKILL");
	cr_assert(!ev[0].core_dumped);
	cr_assert_eq(ev[1].pid, 101);
	cr_assert_eq(ev[1].status, 3);
	cr_assert_str_eq(ev[1].signal, "");
	cr_assert_str_eq(ev[2].signal, "SIGABRT");
	cr_assert(ev[2].core_dumped);
	cr_assert_str_eq(ev[3].signal, "SIGTERM");
}

Test(procexit, other_events_threads_and_clean_exits_are_passed_over)
{
	struct msgbuf m = { .len = 0 };
	struct proc_event fork_ev;
	struct proc_exit ev[8];
	size_t n = 0;
	unsigned dropped = 0;

	memset(&fork_ev, 0, sizeof(fork_ev));
	fork_ev.what = PROC_EVENT_FORK;
	fork_ev.event_data.fork.child_pid = 200;
	fork_ev.event_data.fork.child_tgid = 200;
	put_msg(&m, CN_IDX_PROC, &fork_ev, sizeof(fork_ev));
	put_exit(&m, 201, 201, 0);                       /* exit(0): a clean stop */
	put_exit(&m, 203, 202, SIGSEGV);                 /* a thread of 202: not the process's exit */
	put_exit(&m, 204, 204, 0);
	{
		struct proc_event e;

		/* Another connector's message with an exit's shape. */
		memset(&e, 0, sizeof(e));
		e.what = PROC_EVENT_EXIT;
		e.event_data.exit.process_pid = e.event_data.exit.process_tgid = 205;
		e.event_data.exit.exit_code = SIGKILL;
		put_msg(&m, CN_IDX_PROC + 1, &e, sizeof(e));
		/* Cut before exit_signal: a payload too short for what it says it is. */
		e.event_data.exit.process_pid = e.event_data.exit.process_tgid = 206;
		put_msg(&m, CN_IDX_PROC, &e, offsetof(struct proc_event, event_data.exit.exit_code));
		/* Only up to exit_signal (a kernel without the parent fields): enough. */
		e.event_data.exit.process_pid = e.event_data.exit.process_tgid = 207;
		put_msg(&m, CN_IDX_PROC, &e, offsetof(struct proc_event, event_data.exit.exit_signal) + 4);
	}
	cr_assert_eq(procexit_parse(m.b, m.len, ev, 8, &n, &dropped), 0);
	cr_assert_eq(n, 1, "only 207's exit: %zu", n);
	cr_assert_eq(ev[0].pid, 207);
	cr_assert_str_eq(ev[0].signal, "SIGKILL");
}

Test(procexit, bounded_and_malformed)
{
	struct msgbuf m = { .len = 0 };
	struct proc_exit ev[2];
	size_t n = 0;
	unsigned dropped = 0;
	int i;

	for (i = 0; i < 5; i++)
		put_exit(&m, 300 + i, 300 + i, 1 << 8);
	cr_assert_eq(procexit_parse(m.b, m.len, ev, 2, &n, &dropped), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(dropped, 3);

	/* Not netlink: a length beyond the buffer, or too short for a header. */
	n = 0;
	memset(m.b, 0xff, 64);
	cr_assert_eq(procexit_parse(m.b, 64, ev, 2, &n, &dropped), -EBADMSG);
	cr_assert_eq(procexit_parse(m.b, 8, ev, 2, &n, &dropped), -EBADMSG);
	cr_assert_eq(n, 0);

	/* A whole message then a cut one: the whole one counts. */
	m.len = 0;
	put_exit(&m, 400, 400, SIGBUS);
	put_exit(&m, 401, 401, SIGBUS);
	cr_assert_eq(procexit_parse(m.b, m.len - 10, ev, 2, &n, &dropped), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(ev[0].pid, 400);
}

static struct proc_exit killed(const char *sig)
{
	struct proc_exit e = { .pid = 10, .status = -1 };

	snprintf(e.signal, sizeof(e.signal), "%s", sig);
	return e;
}

static struct proc_exit exited(int status)
{
	struct proc_exit e = { .pid = 10, .status = status };

	return e;
}

Test(procexit, crash_or_stop)
{
	static const char *const crash[] = { "SIGKILL", "SIGSEGV", "SIGABRT", "SIGBUS", "SIGFPE",
					     "SIGILL", "SIGUSR1", "SIG34" };
	static const char *const stop[] = { "SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP" };
	static const int crash_status[] = { 1, 2, 3, 127, 134, 137, 255 };
	static const int stop_status[] = { 0, 129, 130, 131, 143 };
	struct proc_exit e;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(crash); i++) {
		e = killed(crash[i]);
		cr_assert(track_exit_is_crash(&e), "%s", crash[i]);
	}
	for (i = 0; i < ARRAY_SIZE(stop); i++) {
		e = killed(stop[i]);
		cr_assert(!track_exit_is_crash(&e), "%s", stop[i]);
	}
	for (i = 0; i < ARRAY_SIZE(crash_status); i++) {
		e = exited(crash_status[i]);
		cr_assert(track_exit_is_crash(&e), "status %d", crash_status[i]);
	}
	for (i = 0; i < ARRAY_SIZE(stop_status); i++) {
		e = exited(stop_status[i]);
		cr_assert(!track_exit_is_crash(&e), "status %d", stop_status[i]);
	}
	e = killed("SIGKILL");
	e.pid = 0;
	cr_assert(!track_exit_is_crash(&e), "no pid, no process");
}

/* Wait up to about a second for the exits of pids[0..2] among what the connector reports. */
static void live_exits(struct procexit *p, const pid_t pids[2], struct proc_exit out[2])
{
	bool found[2] = { false, false };
	int tries;

	for (tries = 0; tries < 100 && !(found[0] && found[1]); tries++) {
		const struct proc_exit *ev;
		unsigned lost = 0;
		int n = procexit_read(p, &ev, &lost), i, k;
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		cr_assert_geq(n, 0, "procexit_read: %s", strerror(-n));
		for (i = 0; i < n; i++) {
			for (k = 0; k < 2; k++) {
				if (ev[i].pid == pids[k]) {
					out[k] = ev[i];
					found[k] = true;
				}
			}
		}
		nanosleep(&ts, NULL);
	}
	cr_assert(found[0] && found[1], "exit events: child %d %s, child %d %s", (int)pids[0],
		  found[0] ? "seen" : "missing", (int)pids[1], found[1] ? "seen" : "missing");
}

Test(procexit, live_connector_sees_a_child_exit_with_status_and_signal)
{
	struct procexit *p = NULL;
	struct proc_exit e[2];
	pid_t pids[2];
	int r, st;

	r = procexit_open(&p, "/proc/1/ns/net");
	if (r < 0)
		cr_skip_test("the process connector cannot be opened here: %s", strerror(-r));
	pids[0] = fork();
	cr_assert_geq(pids[0], 0);
	if (pids[0] == 0)
		_exit(3);
	pids[1] = fork();
	cr_assert_geq(pids[1], 0);
	if (pids[1] == 0) {
		pause();
		_exit(0);
	}
	kill(pids[1], SIGKILL);
	waitpid(pids[0], &st, 0);
	waitpid(pids[1], &st, 0);
	live_exits(p, pids, e);
	cr_assert_eq(e[0].status, 3);
	cr_assert_str_eq(e[0].signal, "");
	cr_assert_eq(e[1].status, -1);
	cr_assert_str_eq(e[1].signal, "SIGKILL");
	procexit_close(p);
}
