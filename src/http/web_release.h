/* web_release — the web files' own URLs made to carry the release id, so
 * browsers cache them for good: in index.html every "/static/…" attribute
 * value, in a JavaScript module every relative specifier of a static
 * `import … from './x.js'` / `export … from '../y.js'`, get "?v=<release>".
 * Every module then has one URL, whichever file imports it. Any thread;
 * pure text work, bounded by the file's size. */
#ifndef PERISCOPE_HTTP_WEB_RELEASE_H
#define PERISCOPE_HTTP_WEB_RELEASE_H

#include <stdbool.h>
#include <stddef.h>

/* true for the files rewritten: index.html and *.js. */
bool web_release_rewrites(const char *path);

/* Rewrites *body (malloc'd, *len bytes; replaced, old one freed) for path.
 * 0 or -ENOMEM (then *body is unchanged). */
int web_release_rewrite(unsigned char **body, size_t *len, const char *path, const char *release);

#endif
