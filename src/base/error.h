/* error — the detail of an error a person reads (docs/architecture.md,
 * "Errors").
 *
 * Two conventions, and only two:
 *   - inside the server, a function answers 0 (or a count, or a pointer)
 *     on success and a negative errno on failure (-EINVAL, -ENOMEM, -EIO,
 *     -ETIMEDOUT …); a constructor returns that int and its object through
 *     an out parameter;
 *   - where the failure is shown to a person (an admin API answer, a
 *     validation result), the function also fills a struct error_detail:
 *     a stable machine code and one line of text. The HTTP layer turns it
 *     into {"error": {"code", "message"}}.
 * Start-up and command-line paths that only print a line keep the
 * `char *err, size_t errlen` pair; Lua failures keep struct vm_error
 * (lua/vm.h), which adds the script's line and traceback. */
#ifndef PERISCOPE_ERROR_H
#define PERISCOPE_ERROR_H

#define ERROR_CODE_MAX 48
#define ERROR_MESSAGE_MAX 256

struct error_detail {
    char code[ERROR_CODE_MAX];       /* "invalid_webhook_url", … */
    char message[ERROR_MESSAGE_MAX]; /* one line, for a person */
};

/* Fills e (NULL is fine) and answers -EINVAL, the usual reason. */
int error_detail_set(struct error_detail *e, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
