// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "http.h"

struct http_server {
	int fd;
	int stop_pipe[2];
	const struct http_route *routes;
	void *ctx;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	int clients;
};

struct client {
	struct http_server *s;
	int fd;
};

int http_listen(const char *spec, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char host[256];
	const char *colon = strrchr(spec, ':'), *port;
	size_t hlen;
	int fd = -1, rc, one = 1;

	if (!colon || !colon[1]) {
		snprintf(err, errlen, "not ADDR:PORT, [ADDR6]:PORT or :PORT");
		return -1;
	}
	port = colon + 1;
	hlen = (size_t)(colon - spec);
	if (hlen >= 2 && spec[0] == '[' && spec[hlen - 1] == ']') {
		spec++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host)) {
		snprintf(err, errlen, "address too long");
		return -1;
	}
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	for (const char *p = port; *p; p++)
		if (*p < '0' || *p > '9' || p - port > 5) {
			snprintf(err, errlen, "bad port");
			return -1;
		}
	if (atoi(port) < 1 || atoi(port) > 65535) {
		snprintf(err, errlen, "port out of range");
		return -1;
	}
	rc = getaddrinfo(hlen ? host : NULL, port, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "%s", gai_strerror(rc));
		return -1;
	}
	errno = 0;
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, a->ai_addr, a->ai_addrlen) && !listen(fd, 64))
			break;
		rc = errno;
		close(fd);
		fd = -1;
		errno = rc;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "%s", strerror(errno ? errno : EADDRNOTAVAIL));
	return fd;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* All of buf, or false when the client is gone or too slow. */
static bool send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

static void respond(int fd, int status, const char *type, const char *body, size_t len,
		    bool head)
{
	char hdr[256];
	int n;

	if (!type) {
		type = "text/plain; charset=utf-8";
		body = reason(status);
		len = strlen(body);
	}
	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
		     "Connection: close\r\n\r\n", status, reason(status), type,
		     len + (status == 200 ? 0 : 1), status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!send_all(fd, hdr, (size_t)n) || head)
		return;
	if (send_all(fd, body, len) && status != 200)
		send_all(fd, "\n", 1);
}

int http_parse_request(const char *req, size_t len, char *path, size_t pathlen, int *head)
{
	const char *end = memchr(req, '\n', len), *sp1, *sp2, *q;
	size_t line, plen;

	*head = 0;
	if (!end)
		return 400;
	line = (size_t)(end - req);
	if (line && req[line - 1] == '\r')
		line--;
	for (size_t i = 0; i < line; i++)
		if ((unsigned char)req[i] < 0x21 && req[i] != ' ')
			return 400;
		else if ((unsigned char)req[i] >= 0x7f)
			return 400;
	sp1 = memchr(req, ' ', line);
	if (!sp1)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', line - (size_t)(sp1 + 1 - req));
	if (!sp2 || sp2 == sp1 + 1 || memchr(sp2 + 1, ' ', line - (size_t)(sp2 + 1 - req)))
		return 400;
	if ((size_t)(req + line - (sp2 + 1)) != 8 || strncmp(sp2 + 1, "HTTP/1.", 7))
		return strncmp(sp2 + 1, "HTTP/", 5) ? 400 : 505;
	if (sp2[8] != '0' && sp2[8] != '1')
		return 505;
	if (sp1[1] != '/')
		return 400;
	q = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
	plen = (size_t)((q ? q : sp2) - (sp1 + 1));
	if (plen >= pathlen)
		return 404;
	memcpy(path, sp1 + 1, plen);
	path[plen] = '\0';
	if ((size_t)(sp1 - req) == 4 && !strncmp(req, "HEAD", 4))
		*head = 1;
	else if ((size_t)(sp1 - req) != 3 || strncmp(req, "GET", 3))
		return 405;
	return 200;
}

/* Read up to the blank line that ends the headers; 0, 408, 431, or -1 (gone). */
static int read_request(int fd, char *buf, size_t cap, size_t *len)
{
	*len = 0;
	for (;;) {
		ssize_t n = recv(fd, buf + *len, cap - 1 - *len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 408 : -1;
		if (n == 0)
			return *len ? 400 : -1;
		*len += (size_t)n;
		buf[*len] = '\0';
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			return 0;
		if (*len >= cap - 1)
			return 431;
	}
}

static void serve(struct http_server *s, int fd)
{
	struct timeval rto = { .tv_sec = HTTP_READ_TIMEOUT_S }, wto = { .tv_sec = HTTP_WRITE_TIMEOUT_S };
	char buf[HTTP_MAX_REQUEST], path[256];
	const struct http_route *r;
	char *body = NULL;
	size_t len, blen = 0;
	int status, head = 0;
	FILE *f;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rto, sizeof(rto));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wto, sizeof(wto));
	status = read_request(fd, buf, sizeof(buf), &len);
	if (status < 0)
		return;
	if (status) {
		respond(fd, status, NULL, NULL, 0, false);
		return;
	}
	status = http_parse_request(buf, len, path, sizeof(path), &head);
	if (status != 200) {
		respond(fd, status, NULL, NULL, 0, false);
		return;
	}
	for (r = s->routes; r->path && strcmp(r->path, path); r++)
		;
	if (!r->path) {
		respond(fd, 404, NULL, NULL, 0, head);
		return;
	}
	f = open_memstream(&body, &blen);
	if (!f || r->fn(s->ctx, f) || fclose(f)) {
		if (f)
			fclose(f);
		respond(fd, 500, NULL, NULL, 0, head);
	} else {
		respond(fd, 200, r->content_type, body, blen, head);
	}
	free(body);
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	struct http_server *s = c->s;

	serve(s, c->fd);
	shutdown(c->fd, SHUT_WR);
	close(c->fd);
	free(c);
	pthread_mutex_lock(&s->lock);
	if (--s->clients == 0)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void *accept_main(void *arg)
{
	struct http_server *s = arg;
	struct pollfd p[2] = { { .fd = s->fd, .events = POLLIN },
			       { .fd = s->stop_pipe[0], .events = POLLIN } };

	for (;;) {
		struct client *c;
		pthread_attr_t attr;
		pthread_t th;
		bool busy;
		int fd;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&s->lock);
		busy = s->clients >= HTTP_MAX_CLIENTS;
		if (!busy)
			s->clients++;
		pthread_mutex_unlock(&s->lock);
		c = busy ? NULL : malloc(sizeof(*c));
		if (!c) {
			struct timeval wto = { .tv_sec = 1 };

			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wto, sizeof(wto));
			respond(fd, 503, NULL, NULL, 0, false);
			close(fd);
			if (!busy) {
				pthread_mutex_lock(&s->lock);
				s->clients--;
				pthread_mutex_unlock(&s->lock);
			}
			continue;
		}
		c->s = s;
		c->fd = fd;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		if (pthread_create(&th, &attr, client_main, c)) {
			close(fd);
			free(c);
			pthread_mutex_lock(&s->lock);
			s->clients--;
			pthread_mutex_unlock(&s->lock);
		}
		pthread_attr_destroy(&attr);
	}
	return NULL;
}

struct http_server *http_start(int fd, const struct http_route *routes, void *ctx)
{
	struct http_server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->fd = fd;
	s->routes = routes;
	s->ctx = ctx;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	if (pipe2(s->stop_pipe, O_CLOEXEC)) {
		free(s);
		return NULL;
	}
	if (pthread_create(&s->thread, NULL, accept_main, s)) {
		close(s->stop_pipe[0]);
		close(s->stop_pipe[1]);
		free(s);
		return NULL;
	}
	return s;
}

void http_stop(struct http_server *s)
{
	if (!s)
		return;
	if (write(s->stop_pipe[1], "x", 1) < 0)
		pthread_cancel(s->thread);
	pthread_join(s->thread, NULL);
	close(s->fd);
	pthread_mutex_lock(&s->lock);
	while (s->clients)
		pthread_cond_wait(&s->idle, &s->lock);
	pthread_mutex_unlock(&s->lock);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	free(s);
}
