/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exporter's HTTP side: a small HTTP/1.x server for a fixed set of
 * GET routes. Each client gets its own thread (at most HTTP_MAX_CLIENTS at
 * once, beyond that 503), bounded time to send its request (408) and
 * bounded size (431); anything but a well-formed GET or HEAD of a known
 * path gets a 4xx and the connection closed. Responses carry
 * Content-Length and "Connection: close"; a client that goes away
 * mid-response costs nothing but that connection.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdio.h>

#define HTTP_MAX_CLIENTS	8
#define HTTP_MAX_REQUEST	8192	/* request line and headers */
#define HTTP_READ_TIMEOUT_S	5
#define HTTP_WRITE_TIMEOUT_S	10

struct http_route {
	const char *path;		/* exact, query string ignored */
	const char *content_type;
	/* writes the body; returns 0, or non-zero for a 500 */
	int (*fn)(void *ctx, FILE *body);
};

/*
 * Bind and listen on "ADDR:PORT", "[ADDR6]:PORT" or ":PORT" (every
 * address). Returns the socket, or -1 with a one-line reason in err.
 */
int http_listen(const char *spec, char *err, size_t errlen);

struct http_server;

/* Serve routes (terminated by a NULL path) on fd from a thread of its own. */
struct http_server *http_start(int fd, const struct http_route *routes, void *ctx);
/* Stop accepting, wait for the clients being served, close the socket. */
void http_stop(struct http_server *s);

/*
 * Parse one request (the bytes up to the blank line). Returns the HTTP
 * status to answer with: 200 with the path (query string cut) copied to
 * path, and *head set for HEAD; or 400, 405, 505. Pure, for tests.
 */
int http_parse_request(const char *req, size_t len, char *path, size_t pathlen, int *head);

#endif
