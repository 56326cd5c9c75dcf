/* The email channel: SMTP through libcurl (STARTTLS when offered on
 * smtp://, or required with "require_tls": true; implicit TLS on smtps://),
 * a multipart/alternative mail with a text and an HTML part. Header values
 * that come from event data (the subject) are stripped of line breaks and
 * RFC 2047-encoded when not ASCII, so they cannot inject headers. */
#include "notify/channel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>

#include "notify/channel_email.h"

#define SUBJECT_CHUNK_BYTES 45 /* base64 of 45 bytes keeps an encoded word under 75 */

bool channel_email_address_ok(const char *a)
{
    if (!a || !*a || strlen(a) > 254 || !strchr(a, '@')) return false;
    for (const char *p = a; *p; p++)
        if ((unsigned char)*p <= ' ' || strchr("<>\",;()[]\\", *p)) return false;
    return true;
}

int channel_email_subject(const char *subject, char *out, size_t len)
{
    char clean[1024];
    size_t n = 0;
    bool ascii = true;
    for (const char *p = subject; *p && n + 1 < sizeof clean; p++) {
        unsigned char c = (unsigned char)*p;
        clean[n++] = (c == '\r' || c == '\n' || c == '\t') ? ' ' : (char)c;
        if (c >= 0x80 || c < 0x20) ascii = false;
    }
    clean[n] = '\0';
    if (ascii) {
        int w = snprintf(out, len, "%s", clean);
        return (w < 0 || (size_t)w >= len) ? -ENOSPC : 0;
    }
    /* UTF-8 encoded words, split only between characters. */
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t take = n - i < SUBJECT_CHUNK_BYTES ? n - i : SUBJECT_CHUNK_BYTES;
        while (take > 0 && i + take < n && ((unsigned char)clean[i + take] & 0xC0) == 0x80)
            take--;
        if (take == 0) take = n - i < SUBJECT_CHUNK_BYTES ? n - i : SUBJECT_CHUNK_BYTES;
        unsigned char b64[SUBJECT_CHUNK_BYTES * 2];
        EVP_EncodeBlock(b64, (const unsigned char *)clean + i, (int)take);
        int w = snprintf(out + o, len - o, "%s=?UTF-8?B?%s?=", o ? " " : "", (char *)b64);
        if (w < 0 || (size_t)w >= len - o) return -ENOSPC;
        o += (size_t)w;
        i += take;
    }
    return 0;
}

/* "to" is one address, a comma-separated list, or an array of them. */
static int add_recipients(struct channel_xfer *x, const cJSON *to, char *to_header, size_t len)
{
    size_t o = 0;
    cJSON *list = cJSON_IsArray(to) ? json_dup(to) : cJSON_CreateArray();
    if (cJSON_IsString(to)) {
        char *copy = strdup(json_str(to)), *save = NULL;
        for (char *a = copy ? strtok_r(copy, ", ", &save) : NULL; a;
             a = strtok_r(NULL, ", ", &save))
            json_push(list, cJSON_CreateString(a));
        free(copy);
    }
    size_t i;
    cJSON *item;
    int rc = json_size(list) ? 0 : -EINVAL;
    json_array_each(list, i, item)
    {
        const char *a = json_str(item);
        char rcpt[300];
        if (!channel_email_address_ok(a)) {
            rc = -EINVAL;
            break;
        }
        snprintf(rcpt, sizeof rcpt, "<%s>", a);
        struct curl_slist *grown = curl_slist_append(x->rcpt, rcpt);
        int w = snprintf(to_header + o, len - o, "%s%s", o ? ", " : "", a);
        if (!grown || w < 0 || (size_t)w >= len - o) {
            if (grown) x->rcpt = grown;
            rc = grown ? -ENOSPC : -ENOMEM;
            break;
        }
        x->rcpt = grown;
        o += (size_t)w;
    }
    cJSON_Delete(list);
    return rc;
}

static int add_line(struct curl_slist **l, const char *fmt, const char *v)
{
    char line[2048];
    snprintf(line, sizeof line, fmt, v);
    struct curl_slist *grown = curl_slist_append(*l, line);
    if (!grown) return -ENOMEM;
    *l = grown;
    return 0;
}

char *channel_email_crlf(const char *text)
{
    size_t n = 0, breaks = 0;
    for (; text[n]; n++)
        breaks += text[n] == '\n' || text[n] == '\r';
    char *out = malloc(n + breaks + 1), *o = out;
    if (!out) return NULL;
    for (const char *p = text; *p; p++) {
        if (*p == '\r' || *p == '\n') {
            *o++ = '\r';
            *o++ = '\n';
            if (p[0] == '\r' && p[1] == '\n') p++;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

/* One quoted-printable part of the multipart/alternative, CRLF lines. */
static int add_text_part(curl_mime *alt, const char *body, const char *type)
{
    char *crlf = channel_email_crlf(body);
    curl_mimepart *part = crlf ? curl_mime_addpart(alt) : NULL;
    int rc = part && curl_mime_data(part, crlf, CURL_ZERO_TERMINATED) == CURLE_OK &&
                     curl_mime_type(part, type) == CURLE_OK &&
                     curl_mime_encoder(part, "quoted-printable") == CURLE_OK
                 ? 0
                 : -ENOMEM;
    free(crlf); /* curl_mime_data copied it */
    return rc;
}

static int build_mime(struct channel_xfer *x)
{
    x->mime = curl_mime_init(x->easy);
    curl_mime *alt = curl_mime_init(x->easy);
    if (!x->mime || !alt || add_text_part(alt, x->msg.text, "text/plain; charset=utf-8") < 0 ||
        add_text_part(alt, x->msg.html, "text/html; charset=utf-8") < 0) {
        curl_mime_free(alt);
        return -ENOMEM;
    }
    curl_mimepart *part = curl_mime_addpart(x->mime);
    /* The part takes ownership of alt. */
    if (!part || curl_mime_subparts(part, alt) != CURLE_OK) {
        curl_mime_free(alt);
        return -ENOMEM;
    }
    curl_mime_type(part, "multipart/alternative");
    return 0;
}

int channel_email_prepare(struct channel_xfer *x, const cJSON *config, const char *message_id,
                          long long now_ms, char *err, size_t errlen)
{
    const char *url = json_str(json_get(config, "smtp_url"));
    const char *from = json_str(json_get(config, "from"));
    const char *user = json_str(json_get(config, "username"));
    const char *pass = json_str(json_get(config, "password"));
    char to_header[1024], subject[1024], date[64], msgid[160], mail_from[300];

    if (!url || (strncmp(url, "smtp://", 7) != 0 && strncmp(url, "smtps://", 8) != 0)) {
        snprintf(err, errlen, "destination smtp_url must be smtp:// or smtps://");
        return -EINVAL;
    }
    if (!channel_email_address_ok(from)) {
        snprintf(err, errlen, "destination 'from' is not an email address");
        return -EINVAL;
    }
    if (add_recipients(x, json_get(config, "to"), to_header, sizeof to_header) < 0) {
        snprintf(err, errlen, "destination 'to' is not a list of email addresses");
        return -EINVAL;
    }
    if (!x->msg.subject || !x->msg.text || !x->msg.html ||
        channel_email_subject(x->msg.subject, subject, sizeof subject) < 0) {
        snprintf(err, errlen, "email message is incomplete");
        return -EINVAL;
    }
    time_t s = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    snprintf(msgid, sizeof msgid, "<%s.%lld@periscope>", message_id, now_ms);
    snprintf(mail_from, sizeof mail_from, "<%s>", from);

    if (add_line(&x->headers, "Subject: %s", subject) < 0 ||
        add_line(&x->headers, "From: %s", from) < 0 ||
        add_line(&x->headers, "To: %s", to_header) < 0 ||
        add_line(&x->headers, "Date: %s", date) < 0 ||
        add_line(&x->headers, "Message-ID: %s", msgid) < 0 || build_mime(x) < 0) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    curl_easy_setopt(x->easy, CURLOPT_URL, url);
    curl_easy_setopt(x->easy, CURLOPT_MAIL_FROM, mail_from);
    curl_easy_setopt(x->easy, CURLOPT_MAIL_RCPT, x->rcpt);
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(x->easy, CURLOPT_MIMEPOST, x->mime);
    if (strncmp(url, "smtp://", 7) == 0)
        curl_easy_setopt(x->easy, CURLOPT_USE_SSL,
                         cJSON_IsTrue(json_get(config, "require_tls")) ? (long)CURLUSESSL_ALL
                                                                       : (long)CURLUSESSL_TRY);
    if (user && *user) curl_easy_setopt(x->easy, CURLOPT_USERNAME, user);
    if (pass && *pass) curl_easy_setopt(x->easy, CURLOPT_PASSWORD, pass);
    return 0;
}
