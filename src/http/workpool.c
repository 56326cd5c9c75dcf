/* workpool — a thread pool that runs suspended requests (contract in
 * workpool.h). */
#include "http/workpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <microhttpd.h>

#define POOL_THREADS_MAX 32

struct http_pool {
    pthread_mutex_t mu;
    pthread_cond_t work;
    struct http_work *head, *tail; /* queued; under mu */
    size_t queued;                 /* under mu */
    size_t queue_max;
    bool stopping; /* under mu */
    char name[16];
    pthread_t threads[POOL_THREADS_MAX];
    int nthreads;
};

static void finish(struct http_work *w, enum http_work_how how)
{
    w->fn(w, how);
    atomic_store(&w->state, HTTP_WORK_DONE);
    MHD_resume_connection(w->conn);
}

static void *pool_main(void *arg)
{
    struct http_pool *p = arg;
    pthread_setname_np(pthread_self(), p->name);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->work, &p->mu);
        struct http_work *w = p->head;
        if (!w) break; /* stopping, nothing queued */
        p->head = w->next;
        if (!p->head) p->tail = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->mu);
        finish(w, HTTP_WORK_RUN);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int http_pool_start(struct http_pool **out, const char *name, int nthreads, size_t queue_max)
{
    *out = NULL;
    struct http_pool *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    p->queue_max = queue_max;
    snprintf(p->name, sizeof p->name, "%s", name);
    if (nthreads > POOL_THREADS_MAX) nthreads = POOL_THREADS_MAX;
    for (; p->nthreads < nthreads; p->nthreads++)
        if (pthread_create(&p->threads[p->nthreads], NULL, pool_main, p) != 0) break;
    if (p->nthreads == 0) {
        pthread_cond_destroy(&p->work);
        pthread_mutex_destroy(&p->mu);
        free(p);
        return -EAGAIN;
    }
    *out = p;
    return 0;
}

void http_pool_submit(struct http_pool *p, struct http_work *w)
{
    atomic_store(&w->state, HTTP_WORK_QUEUED);
    MHD_suspend_connection(w->conn); /* before a pool thread can resume it */
    enum http_work_how refused = HTTP_WORK_RUN;
    pthread_mutex_lock(&p->mu);
    if (p->stopping)
        refused = HTTP_WORK_STOPPING;
    else if (p->queued >= p->queue_max)
        refused = HTTP_WORK_BUSY;
    else {
        w->next = NULL;
        if (p->tail)
            p->tail->next = w;
        else
            p->head = w;
        p->tail = w;
        p->queued++;
        pthread_cond_signal(&p->work);
    }
    pthread_mutex_unlock(&p->mu);
    if (refused != HTTP_WORK_RUN) finish(w, refused);
}

void http_pool_stop(struct http_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    struct http_work *queued = p->head;
    p->head = p->tail = NULL;
    p->queued = 0;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    while (queued) {
        struct http_work *w = queued;
        queued = w->next;
        finish(w, HTTP_WORK_STOPPING);
    }
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
