/* The metric families table (base/metrics_families.c): one row per name,
 * and a row for every periscope_* family the code increments, sets or
 * observes (read from the sources), so /metrics has a HELP line for each. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/metrics.h"

static void test_no_family_is_written_twice(void **state)
{
    (void)state;
    const char *dup = NULL;
    int rc = metrics_families_check(&dup);
    if (rc != 0) fprintf(stderr, "metric family written twice: %s\n", dup);
    assert_int_equal(rc, 0);
}

static void test_every_row_is_complete(void **state)
{
    (void)state;
    assert_true(metrics_families_count > 0);
    for (size_t i = 0; i < metrics_families_count; i++) {
        const struct metrics_family *f = &metrics_families[i];
        assert_int_equal(strncmp(f->name, "periscope_", 10), 0);
        assert_true(!strcmp(f->type, "counter") || !strcmp(f->type, "gauge") ||
                    !strcmp(f->type, "histogram"));
        assert_true(f->help && strlen(f->help) > 0);
        assert_ptr_equal(metrics_family_find(f->name), f);
    }
    assert_null(metrics_family_find("periscope_no_such_family"));
}

static int missing;

/* Every metrics_add/set/observe("periscope_…" in one source file. */
static int scan_file(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    size_t n = strlen(path);
    if (type != FTW_F || n < 2 || strcmp(path + n - 2, ".c") != 0) return 0;
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *text = NULL;
    size_t cap = 0;
    ssize_t len = getdelim(&text, &cap, '\0', f);
    fclose(f);
    assert_true(len >= 0);
    static const char *const calls[] = {"metrics_add(\"", "metrics_set(\"", "metrics_observe(\""};
    for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++) {
        for (const char *p = text; (p = strstr(p, calls[c])) != NULL;) {
            p += strlen(calls[c]);
            const char *end = strchr(p, '"');
            assert_non_null(end);
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)(end - p), p);
            if (!strncmp(name, "periscope_", 10) && !metrics_family_find(name)) {
                fprintf(stderr, "%s: %s has no row in base/metrics_families.c\n", path, name);
                missing++;
            }
        }
    }
    free(text);
    return 0;
}

static void test_every_family_the_code_uses_has_a_row(void **state)
{
    (void)state;
    missing = 0;
    assert_int_equal(nftw(PERISCOPE_SOURCE_DIR "/src", scan_file, 16, FTW_PHYS), 0);
    assert_int_equal(missing, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_family_is_written_twice),
        cmocka_unit_test(test_every_row_is_complete),
        cmocka_unit_test(test_every_family_the_code_uses_has_a_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
