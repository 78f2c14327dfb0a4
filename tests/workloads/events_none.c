/* events_none.c - with the real ab_measure linked, the tests cannot see events or workload
 * metrics: report none. */
#include <stddef.h>

const char *const *wl_test_events(void);
void wl_test_events_clear(void);
int wl_test_metric(const char *name, double *out);

const char *const *wl_test_events(void)
{
    return NULL;
}

void wl_test_events_clear(void) {}

int wl_test_metric(const char *name, double *out)
{
    (void)name, (void)out;
    return 0;
}
