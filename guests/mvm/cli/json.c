/* SPDX-License-Identifier: MIT */
/* A small recursive-descent JSON reader: enough for VM config files, strict about syntax. */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const char *s, *p;
	char *err;
	size_t errlen;
	int depth;
};

static void fail(struct parser *ps, const char *fmt, ...)
{
	int line = 1, col = 1;
	const char *q;
	va_list ap;
	size_t n;

	if (ps->err[0])
		return;
	for (q = ps->s; q < ps->p; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	n = (size_t)snprintf(ps->err, ps->errlen, "line %d column %d: ", line, col);
	if (n >= ps->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
	va_end(ap);
}

static void skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
		ps->p++;
}

static struct json *node(enum json_type t)
{
	struct json *j = calloc(1, sizeof(*j));

	if (!j) {
		fprintf(stderr, "shyper: out of memory\n");
		exit(1);
	}
	j->type = t;
	return j;
}

static void *grow(void *p, size_t n, size_t size)
{
	void *q = realloc(p, n * size);

	if (!q) {
		fprintf(stderr, "shyper: out of memory\n");
		exit(1);
	}
	return q;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A string after its opening quote; returns the decoded bytes (UTF-8). */
static char *string(struct parser *ps)
{
	size_t cap = 16, n = 0;
	char *out = grow(NULL, cap, 1);

	for (;;) {
		unsigned char c = (unsigned char)*ps->p;
		unsigned cp = 0;

		if (n + 5 > cap) {
			cap *= 2;
			out = grow(out, cap, 1);
		}
		if (c == '"') {
			ps->p++;
			out[n] = 0;
			return out;
		}
		if (c == 0 || c < 0x20) {
			fail(ps, c ? "control character in a string" : "unterminated string");
			free(out);
			return NULL;
		}
		ps->p++;
		if (c != '\\') {
			out[n++] = (char)c;
			continue;
		}
		c = (unsigned char)*ps->p++;
		switch (c) {
		case '"': case '\\': case '/': out[n++] = (char)c; break;
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'n': out[n++] = '\n'; break;
		case 'r': out[n++] = '\r'; break;
		case 't': out[n++] = '\t'; break;
		case 'u':
			for (int i = 0; i < 4; i++) {
				int h = hexval(*ps->p);

				if (h < 0) {
					fail(ps, "bad \\u escape");
					free(out);
					return NULL;
				}
				cp = cp * 16 + (unsigned)h;
				ps->p++;
			}
			if (cp < 0x80) {
				out[n++] = (char)cp;
			} else if (cp < 0x800) {
				out[n++] = (char)(0xc0 | (cp >> 6));
				out[n++] = (char)(0x80 | (cp & 0x3f));
			} else {
				out[n++] = (char)(0xe0 | (cp >> 12));
				out[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
				out[n++] = (char)(0x80 | (cp & 0x3f));
			}
			break;
		default:
			fail(ps, "bad escape \\%c", c);
			free(out);
			return NULL;
		}
	}
}

static struct json *value(struct parser *ps);

static struct json *container(struct parser *ps, int object)
{
	struct json *j = node(object ? JSON_OBJECT : JSON_ARRAY);
	char close = object ? '}' : ']';

	ps->p++;
	skip_ws(ps);
	if (*ps->p == close) {
		ps->p++;
		return j;
	}
	for (;;) {
		char *key = NULL;
		struct json *v;

		skip_ws(ps);
		if (object) {
			if (*ps->p != '"') {
				fail(ps, "expected a \"key\"");
				goto bad;
			}
			ps->p++;
			key = string(ps);
			if (!key)
				goto bad;
			skip_ws(ps);
			if (*ps->p != ':') {
				free(key);
				fail(ps, "expected ':'");
				goto bad;
			}
			ps->p++;
		}
		v = value(ps);
		if (!v) {
			free(key);
			goto bad;
		}
		j->items = grow(j->items, j->n + 1, sizeof(*j->items));
		if (object)
			j->keys = grow(j->keys, j->n + 1, sizeof(*j->keys));
		j->items[j->n] = v;
		if (object)
			j->keys[j->n] = key;
		j->n++;
		skip_ws(ps);
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p == close) {
			ps->p++;
			return j;
		}
		fail(ps, "expected ',' or '%c'", close);
		goto bad;
	}
bad:
	json_free(j);
	return NULL;
}

static struct json *value(struct parser *ps)
{
	struct json *j;
	const char *start;

	skip_ws(ps);
	if (++ps->depth > 64) {
		fail(ps, "nested too deeply");
		return NULL;
	}
	switch (*ps->p) {
	case '{':
	case '[':
		j = container(ps, *ps->p == '{');
		break;
	case '"':
		ps->p++;
		j = node(JSON_STRING);
		j->str = string(ps);
		if (!j->str) {
			free(j);
			j = NULL;
		}
		break;
	default:
		if (!strncmp(ps->p, "true", 4) || !strncmp(ps->p, "false", 5)) {
			j = node(JSON_BOOL);
			j->boolean = *ps->p == 't';
			ps->p += j->boolean ? 4 : 5;
			break;
		}
		if (!strncmp(ps->p, "null", 4)) {
			ps->p += 4;
			j = node(JSON_NULL);
			break;
		}
		start = ps->p;
		if (*ps->p == '-')
			ps->p++;
		while ((*ps->p >= '0' && *ps->p <= '9') || *ps->p == '.' || *ps->p == 'e' || *ps->p == 'E' || *ps->p == '+' ||
		       *ps->p == '-')
			ps->p++;
		if (ps->p == start || (ps->p == start + 1 && *start == '-')) {
			fail(ps, *ps->p ? "unexpected '%c'" : "unexpected end of input", *ps->p);
			j = NULL;
			break;
		}
		j = node(JSON_NUMBER);
		j->text = strndup(start, (size_t)(ps->p - start));
		break;
	}
	ps->depth--;
	return j;
}

struct json *json_parse(const char *text, char *err, size_t errlen)
{
	struct parser ps = { text, text, err, errlen, 0 };
	struct json *j;

	err[0] = 0;
	j = value(&ps);
	if (!j)
		return NULL;
	skip_ws(&ps);
	if (*ps.p) {
		fail(&ps, "unexpected text after the value");
		json_free(j);
		return NULL;
	}
	return j;
}

void json_free(struct json *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++) {
		json_free(j->items[i]);
		if (j->keys)
			free(j->keys[i]);
	}
	free(j->items);
	free(j->keys);
	free(j->text);
	free(j->str);
	free(j);
}

struct json *json_get(const struct json *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return obj->items[i];
	return NULL;
}
