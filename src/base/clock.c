/* clock — see clock.h. */
#include "base/clock.h"

static int64_t read_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clock_wall_ms(void)
{
    return read_ns(CLOCK_REALTIME) / 1000000;
}

int64_t clock_mono_ms(void)
{
    return read_ns(CLOCK_MONOTONIC) / 1000000;
}

int64_t clock_mono_ns(void)
{
    return read_ns(CLOCK_MONOTONIC);
}

double clock_seconds_since(int64_t since_ns)
{
    return (double)(clock_mono_ns() - since_ns) / 1e9;
}

static struct timespec timespec_of_ns(int64_t ns)
{
    return (struct timespec){(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
}

struct timespec clock_deadline_wall(int64_t ms)
{
    return timespec_of_ns(read_ns(CLOCK_REALTIME) + ms * 1000000);
}

struct timespec clock_deadline_mono(int64_t ms)
{
    return timespec_of_ns(read_ns(CLOCK_MONOTONIC) + ms * 1000000);
}

struct timespec clock_timespec_of_ms(int64_t wall_ms)
{
    return timespec_of_ns(wall_ms * 1000000);
}
