/* grouping/config — see config.h. */
#include "grouping/config.h"

#include <stddef.h>
#include <string.h>

/* Newest first; a replaced config stays here while projects may still be
 * in their transition from it. */
static const struct {
    const char *id, *module;
} CONFIGS[] = {
    {GROUPING_CONFIG_ID, "periscope.grouping"},
};

const char *grouping_config_module(const char *config_id)
{
    if (!config_id) return NULL;
    for (size_t i = 0; i < sizeof CONFIGS / sizeof CONFIGS[0]; i++)
        if (strcmp(CONFIGS[i].id, config_id) == 0) return CONFIGS[i].module;
    return NULL;
}
