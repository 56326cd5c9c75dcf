#include "notify/retry.h"

#include <ctype.h>
#include <stdlib.h>
#include <curl/curl.h>

enum retry_outcome retry_classify(bool transport_ok, bool permanent_error, long status)
{
    if (permanent_error) return RETRY_PERMANENT;
    if (!transport_ok) return RETRY_AGAIN;
    if (status == 0 || (status >= 200 && status < 300)) return RETRY_SENT;
    if (status == 408 || status == 425 || status == 429 || status >= 500) return RETRY_AGAIN;
    return RETRY_PERMANENT; /* 3xx (we never follow redirects) and other 4xx */
}

long long retry_delay_ms(int attempts, long long base_ms, uint32_t jitter, long long retry_after_ms)
{
    if (attempts < 1) attempts = 1;
    if (base_ms < 1) base_ms = 1;
    long long full = base_ms;
    for (int i = 1; i < attempts && full < RETRY_MAX_DELAY_MS; i++)
        full *= 2;
    if (full > RETRY_MAX_DELAY_MS) full = RETRY_MAX_DELAY_MS;
    long long half = full / 2;
    long long delay = half + (long long)((double)(full - half) * ((double)jitter / 4294967296.0));
    if (retry_after_ms > delay)
        delay = retry_after_ms < RETRY_MAX_DELAY_MS ? retry_after_ms : RETRY_MAX_DELAY_MS;
    return delay;
}

long long retry_after_parse_ms(const char *value, long long now_s)
{
    if (!value) return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (isdigit((unsigned char)*value)) {
        char *end;
        long long s = strtoll(value, &end, 10);
        while (*end == ' ' || *end == '\t')
            end++;
        if (*end != '\0' || s < 0) return -1;
        return s > RETRY_MAX_DELAY_MS / 1000 ? RETRY_MAX_DELAY_MS : s * 1000;
    }
    time_t when = curl_getdate(value, NULL);
    if (when < 0) return -1;
    return when <= now_s ? 0 : ((long long)when - now_s) * 1000;
}
