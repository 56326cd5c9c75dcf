/* web_assets: the web directory is read whole at start — served files by
 * extension, hidden entries and unknown types left out, index.html
 * required, oversized files refused with a message — and web_matches
 * leaves the API and probes alone. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "http/web.h"
#include "http/web_release.h"

static char dir[64];

static void write_file(const char *rel, size_t size)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < size; i++)
        fputc('a' + (int)(i % 26), f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/periscope-web-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char sub[128];
    snprintf(sub, sizeof sub, "%s/js", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(sub, sizeof sub, "%s/.git", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_loads_served_files_only(void **state)
{
    (void)state;
    char err[256] = "";
    struct web_assets *w = NULL;
    write_file("js/app.js", 3000);
    write_file("LICENSE", 10);     /* no extension: not served */
    write_file(".git/config", 10); /* hidden: skipped */
    assert_int_equal(web_assets_open(dir, &w, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "index.html"));
    write_file("index.html", 100);
    assert_int_equal(web_assets_open(dir, &w, err, sizeof err), 0);
    assert_int_equal(web_assets_count(w), 2);
    web_assets_free(w);
}

static void test_refuses_an_oversized_file(void **state)
{
    (void)state;
    char err[256] = "";
    struct web_assets *w = NULL;
    write_file("index.html", 100);
    write_file("big.js", WEB_FILE_MAX_BYTES + 1);
    assert_int_equal(web_assets_open(dir, &w, err, sizeof err), -EFBIG);
    assert_non_null(strstr(err, "big.js"));
    assert_null(w);
    char path[256];
    snprintf(path, sizeof path, "%s/big.js", dir);
    unlink(path);
}

static void test_missing_directory(void **state)
{
    (void)state;
    char err[256] = "";
    struct web_assets *w = NULL;
    assert_true(web_assets_open("/nonexistent/periscope-web", &w, err, sizeof err) < 0);
    assert_non_null(strstr(err, "/nonexistent/periscope-web"));
}

static void test_matches_ui_paths_only(void **state)
{
    (void)state;
    assert_true(web_matches("/"));
    assert_true(web_matches("/projects/1/issues/2"));
    assert_true(web_matches("/static/js/app.js"));
    assert_true(web_matches("/apifoo"));
    assert_false(web_matches("/api/admin/projects"));
    assert_false(web_matches("/api/1/envelope/"));
    assert_false(web_matches("/api"));
    assert_false(web_matches("/healthz"));
    assert_false(web_matches("/readyz"));
    assert_false(web_matches("/metrics"));
}

static char *rewrite(const char *path, const char *in)
{
    size_t len = strlen(in);
    unsigned char *body = (unsigned char *)strdup(in);
    assert_int_equal(web_release_rewrite(&body, &len, path, "abc"), 0);
    assert_int_equal(strlen((char *)body), len);
    return (char *)body;
}

static void test_release_in_module_urls(void **state)
{
    (void)state;
    assert_true(web_release_rewrites("index.html"));
    assert_true(web_release_rewrites("js/pages/issue.js"));
    assert_false(web_release_rewrites("app.css"));
    char *js = rewrite("js/a.js", "import {h} from './dom.js';\nimport x from \"../b.js\";\n"
                                  "export {y} from './c.js';\nconst xfrom = 1; from('./no.js');\n"
                                  "import z from '/abs.js'; import q from './q.js?v=old';");
    assert_string_equal(js, "import {h} from './dom.js?v=abc';\nimport x from \"../b.js?v=abc\";\n"
                            "export {y} from './c.js?v=abc';\nconst xfrom = 1; from('./no.js');\n"
                            "import z from '/abs.js'; import q from './q.js?v=old';");
    free(js);
    char *html =
        rewrite("index.html", "<link href=\"/static/app.css\"><a href=\"/x\">"
                              "<script src=\"/static/js/app.js\"></script>\"/static/unterminated");
    assert_string_equal(html,
                        "<link href=\"/static/app.css?v=abc\"><a href=\"/x\">"
                        "<script src=\"/static/js/app.js?v=abc\"></script>\"/static/unterminated");
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loads_served_files_only),
        cmocka_unit_test(test_refuses_an_oversized_file),
        cmocka_unit_test(test_missing_directory),
        cmocka_unit_test(test_matches_ui_paths_only),
        cmocka_unit_test(test_release_in_module_urls),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
