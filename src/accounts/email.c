/* email — normal form of an account's email (contract in email.h). */
#include "accounts/email.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

int email_normalize(const char *in, char out[EMAIL_MAX + 1])
{
    if (!in) return -EINVAL;
    while (*in == ' ' || *in == '\t')
        in++;
    size_t n = strlen(in);
    while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
        n--;
    if (n < 3 || n > EMAIL_MAX) return -EINVAL;
    size_t at = n, ats = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c <= ' ' || c == 0x7f || c == '"' || c == ',' || c == '<' || c == '>') return -EINVAL;
        if (c == '@') {
            ats++;
            at = i;
        }
        out[i] = (char)tolower(c);
    }
    out[n] = '\0';
    return ats == 1 && at > 0 && at < n - 1 ? 0 : -EINVAL;
}
