/* decompress — the legacy Raven /store/ body: base64 of deflated JSON
 * (decompress.h). Relay accepts it; raven-python, raven-ruby and raven-go
 * still send it. */
#include "ingest/decompress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

/* Copies the base64 text into a standard-alphabet, padded, whitespace-free
 * buffer (caller frees). -EBADMSG on a character outside both alphabets. */
static int base64_normalize(const char *in, size_t len, char **out, size_t *out_len)
{
    char *b = malloc(len + 4);
    size_t n = 0;
    if (!b) return -ENOMEM;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (c == '=')
            break; /* padding: re-added below */
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '+' || c == '/')) {
            free(b);
            return -EBADMSG;
        }
        b[n++] = c;
    }
    /* Only whitespace and more padding may follow the first '='. */
    for (const char *p = memchr(in, '=', len); p && p < in + len; p++) {
        if (*p != '=' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            free(b);
            return -EBADMSG;
        }
    }
    if (n % 4 == 1 || n == 0) {
        free(b);
        return -EBADMSG;
    }
    while (n % 4)
        b[n++] = '=';
    b[n] = '\0';
    *out = b;
    *out_len = n;
    return 0;
}

int decomp_raven(const char *in, size_t len, size_t max_out, char **out, size_t *out_len)
{
    char *text = NULL;
    unsigned char *bin = NULL;
    size_t text_len;
    int rc = base64_normalize(in, len, &text, &text_len);
    if (rc) return rc;
    if (text_len > (size_t)0x7fffffff) {
        rc = -E2BIG;
        goto fail;
    }
    bin = malloc(text_len / 4 * 3 + 1);
    if (!bin) {
        rc = -ENOMEM;
        goto fail;
    }
    int n = EVP_DecodeBlock(bin, (const unsigned char *)text, (int)text_len);
    if (n < 0) {
        rc = -EBADMSG;
        goto fail;
    }
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    for (size_t i = text_len; i > 0 && text[i - 1] == '='; i--)
        n--;
    /* Some clients base64 the JSON without deflating it. */
    if (n > 0 && bin[0] == '{') {
        if ((size_t)n > max_out) {
            rc = -E2BIG;
            goto fail;
        }
        bin[n] = '\0';
        *out = (char *)bin;
        *out_len = (size_t)n;
        free(text);
        return 0;
    }
    rc = decomp_all(DECOMP_DEFLATE, bin, (size_t)n, max_out, out, out_len);
fail:
    free(text);
    free(bin);
    return rc;
}
