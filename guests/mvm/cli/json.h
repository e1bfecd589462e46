/* SPDX-License-Identifier: MIT */
/* A small JSON reader (RFC 8259) for the VM config files `shyper vm config` takes. */
#ifndef SHYPER_JSON_H
#define SHYPER_JSON_H

#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	/* JSON_NUMBER: the text as written (integers up to 2^64 are read exactly from it). */
	char *text;
	/* JSON_STRING: the value, NUL-terminated (an embedded NUL ends it). */
	char *str;
	int boolean;
	/* JSON_ARRAY / JSON_OBJECT: items (and keys for an object). */
	size_t n;
	struct json **items;
	char **keys;
};

/* Parse `text`; NULL on error, with a message "line L column C: what" in err. */
struct json *json_parse(const char *text, char *err, size_t errlen);
void json_free(struct json *j);
/* The member `key` of an object, or NULL. */
struct json *json_get(const struct json *obj, const char *key);

#endif
