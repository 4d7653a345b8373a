/* nsworker.c: one long-lived thread that enters other network namespaces, so the daemon's main thread never leaves its own. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "nsworker.h"

enum job_state {
	JOB_NONE,    /* free for the next caller */
	JOB_POSTED,  /* waiting for the worker */
	JOB_DONE,    /* result ready for the caller that posted it */
};

struct nsworker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;      /* signalled on every change below */
	int home_fd;              /* the namespace the worker started in */
	bool stopping;
	unsigned callers;         /* inside nsworker_run: stop waits for them */
	/* The one job slot, guarded by lock. */
	enum job_state state;
	int nsfd;
	int (*fn)(void *arg);
	void *arg;
	int result;
};

/*
 * Run one job. After a job in another namespace the worker goes home at
 * once: a thread sitting in a namespace keeps it alive, and one whose
 * last process exited should be freed, not pinned until the next job.
 * fn must not change the thread's namespace itself.
 */
static int run_job(struct nsworker *w, int nsfd, int (*fn)(void *), void *arg, bool *away)
{
	int ret;

	if (nsfd >= 0) {
		if (setns(nsfd, CLONE_NEWNET) < 0)
			return -errno;  /* a failed setns leaves the thread where it was */
		*away = true;
	} else if (*away) {
		/* Only when going home after a job failed to: a retry. */
		if (setns(w->home_fd, CLONE_NEWNET) < 0)
			return -errno;
		*away = false;
	}
	ret = fn(arg);
	if (*away && setns(w->home_fd, CLONE_NEWNET) == 0)
		*away = false;
	return ret;
}

static void *worker_main(void *p)
{
	struct nsworker *w = p;
	bool away = false;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		int (*fn)(void *);
		void *arg;
		int nsfd, ret;

		while (w->state != JOB_POSTED && !w->stopping)
			pthread_cond_wait(&w->cond, &w->lock);
		/* A job posted before stop still runs, so its caller is never left waiting. */
		if (w->state != JOB_POSTED)
			break;
		nsfd = w->nsfd;
		fn = w->fn;
		arg = w->arg;
		pthread_mutex_unlock(&w->lock);
		ret = run_job(w, nsfd, fn, arg, &away);
		pthread_mutex_lock(&w->lock);
		w->result = ret;
		w->state = JOB_DONE;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* The calling thread's namespace; /proc/thread-self is 3.17+, before it the main thread's will do. */
static int open_own_netns(void)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int nsworker_start(struct nsworker **out)
{
	sigset_t all, old;
	struct nsworker *w;
	int err;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	/* A new thread starts in its creator's namespace: ours is its home. */
	w->home_fd = open_own_netns();
	if (w->home_fd < 0) {
		err = w->home_fd;
		goto out_free;
	}
	err = -pthread_mutex_init(&w->lock, NULL);
	if (err)
		goto out_close;
	err = -pthread_cond_init(&w->cond, NULL);
	if (err)
		goto out_mutex;
	/*
	 * The daemon takes its signals through a signalfd, which only sees
	 * signals blocked in every thread. The worker inherits a full mask from
	 * here, so there is no moment where it could take one itself.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		goto out_cond;
	*out = w;
	return 0;

out_cond:
	pthread_cond_destroy(&w->cond);
out_mutex:
	pthread_mutex_destroy(&w->lock);
out_close:
	close(w->home_fd);
out_free:
	free(w);
	return err;
}

void nsworker_stop(struct nsworker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->cond);
	/* Callers still inside nsworker_run hold pointers into w: let them leave first. */
	while (w->callers > 0)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	close(w->home_fd);
	free(w);
}

int nsworker_run(struct nsworker *w, int nsfd, int (*fn)(void *arg), void *arg)
{
	int ret;

	if (!w || !fn)
		return -EINVAL;
	/* fn calling back into its own worker would wait for itself forever. */
	if (pthread_equal(pthread_self(), w->thread))
		return -EDEADLK;
	pthread_mutex_lock(&w->lock);
	w->callers++;
	/* One job slot: callers from several threads take turns. */
	while (w->state != JOB_NONE && !w->stopping)
		pthread_cond_wait(&w->cond, &w->lock);
	/* Once stopping, the worker may already have left its loop: post nothing. */
	if (w->stopping) {
		ret = -ESHUTDOWN;
		goto out;
	}
	w->nsfd = nsfd;
	w->fn = fn;
	w->arg = arg;
	w->state = JOB_POSTED;
	pthread_cond_broadcast(&w->cond);
	while (w->state != JOB_DONE)
		pthread_cond_wait(&w->cond, &w->lock);
	ret = w->result;
	w->state = JOB_NONE;
out:
	w->callers--;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return ret;
}
