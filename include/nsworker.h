/* nsworker.h: a helper thread that runs work inside another network namespace.
 * setns() changes the namespace of the calling thread only; the daemon's main
 * thread never leaves its own, so it does the namespace-bound work through here. */
#ifndef BACKLOGD_NSWORKER_H
#define BACKLOGD_NSWORKER_H

struct nsworker;

/* Start the thread. Return: 0 or -errno. */
int nsworker_start(struct nsworker **out);
/* Stop and join the thread; NULL is fine. */
void nsworker_stop(struct nsworker *w);

/*
 * Run fn(arg) on the worker thread inside the network namespace nsfd (an
 * open /proc/PID/ns/net or /run/netns/NAME), and wait for it. nsfd -1 runs
 * it in the namespace the worker started in. Return: fn's return value, or
 * -errno when setns failed (fn is then not called).
 */
int nsworker_run(struct nsworker *w, int nsfd, int (*fn)(void *arg), void *arg);

#endif
