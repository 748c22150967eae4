/*
 * smtpd_pool.c - session threads that wait for the next session instead of
 * exiting (see smtpd_pool.h for why).
 *
 * A job is handed to an idle thread only when there are more idle threads
 * than jobs already waiting for one, so a job never waits behind a busy
 * thread: otherwise a new thread starts.  The pool never holds more
 * threads than the listener's max_sessions allows sessions, since every
 * busy thread is a session.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "smtpd_pool.h"
#include "tenantrelay/clock.h"
#include "tenantrelay/mymalloc.h"

struct pool_job {
    void (*fn)(void *);
    void *arg;
    struct pool_job *next;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct pool_job *head, *tail;       /* handed over, not yet taken */
    int waiting_jobs;
    int idle_threads;
    bool stopping;
} pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0, false };

static void *pool_thread(void *arg)
{
    struct pool_job *job = arg;

    for (;;) {
        struct timespec until;

        job->fn(job->arg);
        myfree(job);
        job = NULL;
        clock_real_deadline(&until, (long long)SMTPD_POOL_IDLE * 1000);
        pthread_mutex_lock(&pool.lock);
        pool.idle_threads++;
        while (pool.head == NULL && !pool.stopping)
            if (pthread_cond_timedwait(&pool.cond, &pool.lock, &until) == ETIMEDOUT)
                break;
        pool.idle_threads--;
        if (pool.head != NULL) {
            job = pool.head;
            pool.head = job->next;
            if (pool.head == NULL)
                pool.tail = NULL;
            pool.waiting_jobs--;
        }
        pthread_mutex_unlock(&pool.lock);
        if (job == NULL)
            return NULL;
    }
}

int smtpd_pool_run(void (*fn)(void *), void *arg, size_t stack_size)
{
    struct pool_job *job = mycalloc(1, sizeof(*job));
    pthread_attr_t attr;
    pthread_t tid;
    int rc;

    job->fn = fn;
    job->arg = arg;
    pthread_mutex_lock(&pool.lock);
    if (!pool.stopping && pool.idle_threads > pool.waiting_jobs) {
        if (pool.tail)
            pool.tail->next = job;
        else
            pool.head = job;
        pool.tail = job;
        pool.waiting_jobs++;
        pthread_cond_signal(&pool.cond);
        pthread_mutex_unlock(&pool.lock);
        return 0;
    }
    pthread_mutex_unlock(&pool.lock);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, stack_size);
    rc = pthread_create(&tid, &attr, pool_thread, job);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        myfree(job);
    return rc;
}

void smtpd_pool_stop(void)
{
    pthread_mutex_lock(&pool.lock);
    pool.stopping = true;
    pthread_cond_broadcast(&pool.cond);
    pthread_mutex_unlock(&pool.lock);
}
