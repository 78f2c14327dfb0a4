/* measure_double.c - TEST DOUBLE of the runner's measurement hooks (wl_workload.h, bottom),
 * used when the real ab_measure library is not in the build. Every timed call goes straight
 * through to the allocator and re-arms the countdown; events and settle points are recorded by
 * name so tests can check that a workload emits them, and wl_metric figures are summed by name
 * as the runner does (up to 16). Not a measurement: nothing is timed.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "wl_workload.h"

#define MAX_EVENTS 256

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const char *events[MAX_EVENTS + 1];
static int nevents;

static const char *metric_names[16];
static double metric_values[16];
static int nmetrics;

const char *const *wl_test_events(void);
void wl_test_events_clear(void);
int wl_test_metric(const char *name, double *out);

static void record(const char *name)
{
    pthread_mutex_lock(&lock);
    if (nevents < MAX_EVENTS) events[nevents++] = name;
    events[nevents] = NULL;
    pthread_mutex_unlock(&lock);
}

const char *const *wl_test_events(void)
{
    return events;
}

void wl_test_events_clear(void)
{
    pthread_mutex_lock(&lock);
    nevents = 0;
    events[0] = NULL;
    nmetrics = 0;
    pthread_mutex_unlock(&lock);
}

void *wl_timed_malloc(wl_thread *t, size_t size)
{
    t->sample_countdown = 97;
    return t->a->malloc(size);
}

void *wl_timed_calloc(wl_thread *t, size_t n, size_t size)
{
    t->sample_countdown = 97;
    return t->a->calloc(n, size);
}

void *wl_timed_realloc(wl_thread *t, void *p, size_t size)
{
    t->sample_countdown = 97;
    return t->a->realloc(p, size);
}

void wl_timed_free(wl_thread *t, void *p)
{
    t->sample_countdown = 97;
    t->a->free(p);
}

void *wl_timed_gc_alloc(wl_thread *t, size_t size, unsigned flags)
{
    t->sample_countdown = 97;
    return t->a->gc_alloc(size, flags);
}

void wl_lat_record(wl_thread *t, wl_op op, uint64_t start_ticks, uint64_t end_ticks)
{
    (void)t, (void)op, (void)start_ticks, (void)end_ticks;
}

uint64_t wl_ticks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int wl_lat_should_sample(wl_thread *t)
{
    return WL_SAMPLE_NOW(t) ? (t->sample_countdown = 97, 1) : 0;
}

void wl_event(wl_run *run, const char *name)
{
    (void)run;
    record(name);
}

void wl_settle(wl_run *run, const char *name)
{
    (void)run;
    record(name);
}

void wl_metric(wl_run *run, const char *name, double value)
{
    (void)run;
    pthread_mutex_lock(&lock);
    int i = 0;
    while (i < nmetrics && strcmp(metric_names[i], name) != 0)
        i++;
    if (i < nmetrics) {
        metric_values[i] += value;
    } else if (i < 16) {
        metric_names[i] = name;
        metric_values[i] = value;
        nmetrics++;
    }
    pthread_mutex_unlock(&lock);
}

int wl_test_metric(const char *name, double *out)
{
    int found = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < nmetrics && !found; i++)
        if (strcmp(metric_names[i], name) == 0) *out = metric_values[i], found = 1;
    pthread_mutex_unlock(&lock);
    return found;
}
