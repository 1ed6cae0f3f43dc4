/* A JSON string of any C string: bytes that are not valid UTF-8 (say, in a manual run's arguments) become U+FFFD,
 * where jansson's json_string() refuses the whole string. */
#ifndef GNOMON_UTIL_JSON_TEXT_H
#define GNOMON_UTIL_JSON_TEXT_H

#include <jansson.h>

/* The string s (NULL: ""), never NULL. */
json_t *json_text(const char *s);

#endif
