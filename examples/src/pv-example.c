/*
 * pv-example: the one helper binary of the example containers.
 *
 *   pv-example serve <socket-path>    answer every connection with one hello line
 *   pv-example connect <socket-path>  print what the server sends; non-zero on failure
 *   pv-example signal <type>          POST /signal to pv-ctrl; exit 0 only on 200
 *   pv-example get <path>             GET <path> from pv-ctrl; exit 0 only on 200
 *
 * It exists because busybox nc cannot talk to Unix sockets. It is linked statically so
 * the root filesystems need nothing but busybox and this file, and it avoids anything
 * that would make two builds differ (no __DATE__, no embedded paths).
 *
 * PV_CTRL_SOCKET overrides the pv-ctrl socket path so the tests can point the client
 * half at a fake server; inside a container the socket is always /pantavisor/pv-ctrl.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CTRL_SOCKET "/pantavisor/pv-ctrl"
#define SERVER_NAME "pv-example-unix-server"
/* A dead peer must not hang the container init loops forever. */
#define IO_TIMEOUT_SECONDS 10

static int usage(void)
{
	fprintf(stderr,
		"usage: pv-example serve <socket-path>\n"
		"       pv-example connect <socket-path>\n"
		"       pv-example signal <type>\n"
		"       pv-example get <path>\n");
	return 2;
}

static int fill_address(struct sockaddr_un *addr, const char *path)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr->sun_path)) {
		fprintf(stderr, "pv-example: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(addr->sun_path, path);
	return 0;
}

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_SECONDS, .tv_usec = 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Like mkdir -p for the parent directory of path: the socket directory lives on a
 * fresh overlay (or tmpfs) at every boot, so it usually does not exist yet. */
static int make_parent_dirs(const char *path)
{
	char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *p;

	if (strlen(path) >= sizeof(buf))
		return -1;
	strcpy(buf, path);
	p = strrchr(buf, '/');
	if (p == NULL || p == buf)
		return 0;
	*p = '\0';
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un addr;
	int fd;

	if (fill_address(&addr, path) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "pv-example: socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "pv-example: connect %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	set_timeouts(fd);
	return fd;
}

static int cmd_serve(const char *path)
{
	struct sockaddr_un addr;
	unsigned long counter = 0;
	int fd;

	/* A client that hangs up before reading must not kill the server. */
	signal(SIGPIPE, SIG_IGN);
	if (fill_address(&addr, path) < 0)
		return 1;
	if (make_parent_dirs(path) < 0) {
		fprintf(stderr, "pv-example: cannot create the directory of %s: %s\n", path, strerror(errno));
		return 1;
	}
	/* A socket left by a previous run of the same container would make bind fail. */
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 16) < 0) {
		fprintf(stderr, "pv-example: cannot listen on %s: %s\n", path, strerror(errno));
		return 1;
	}
	/* The consumer side (pv-xconnect or another container) may run as another user. */
	chmod(path, 0666);
	printf("pv-example: serving on %s\n", path);
	fflush(stdout);

	for (;;) {
		char line[160];
		char stamp[32];
		time_t now;
		struct tm tm;
		int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (conn < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "pv-example: accept: %s\n", strerror(errno));
			return 1;
		}
		set_timeouts(conn);
		now = time(NULL);
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(line, sizeof(line), "hello from " SERVER_NAME " %lu %s\n", ++counter, stamp);
		write_all(conn, line, strlen(line));
		close(conn);
	}
}

/* Reads until EOF (or the timeout) into a malloc'd, NUL-terminated buffer. */
static char *read_all(int fd, size_t *out_len, int *failed)
{
	size_t cap = 1024, len = 0;
	char *buf = malloc(cap);

	*failed = 0;
	if (buf == NULL) {
		*failed = 1;
		return NULL;
	}
	for (;;) {
		ssize_t n;
		if (cap - len < 512) {
			char *grown = realloc(buf, cap * 2);
			if (grown == NULL) {
				*failed = 1;
				break;
			}
			buf = grown;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "pv-example: read: %s\n", strerror(errno));
			*failed = 1;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out_len = len;
	return buf;
}

static int cmd_connect(const char *path)
{
	size_t len = 0;
	int failed;
	char *data;
	int fd = connect_to(path);

	if (fd < 0)
		return 1;
	data = read_all(fd, &len, &failed);
	close(fd);
	if (data != NULL && len > 0)
		fwrite(data, 1, len, stdout);
	free(data);
	/* The server always sends a line, so silence means it is broken. */
	if (failed || len == 0) {
		if (!failed)
			fprintf(stderr, "pv-example: %s closed without sending anything\n", path);
		return 1;
	}
	return 0;
}

/* The signal type ends up inside a JSON string; escape it rather than trust it. */
static int json_escape(const char *in, char *out, size_t cap)
{
	size_t o = 0;

	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;
		char piece[8];
		size_t plen;

		if (c == '"' || c == '\\') {
			piece[0] = '\\';
			piece[1] = (char)c;
			plen = 2;
		} else if (c < 0x20) {
			plen = (size_t)snprintf(piece, sizeof(piece), "\\u%04x", c);
		} else {
			piece[0] = (char)c;
			plen = 1;
		}
		if (o + plen >= cap)
			return -1;
		memcpy(out + o, piece, plen);
		o += plen;
	}
	out[o] = '\0';
	return 0;
}

/* One HTTP/1.0 exchange with pv-ctrl: HTTP/1.0 makes the server close after the reply,
 * so the response is simply everything until EOF. Prints the status line (and, when
 * print_body is set, the body) and returns the status code, or -1. */
static int ctrl_request(const char *method, const char *path, const char *body, int print_body)
{
	const char *socket_path = getenv("PV_CTRL_SOCKET");
	char head[1024];
	size_t len = 0;
	int failed, code = -1, n;
	char *resp, *sep;
	int fd;

	if (socket_path == NULL || *socket_path == '\0')
		socket_path = DEFAULT_CTRL_SOCKET;
	if (body != NULL)
		n = snprintf(head, sizeof(head),
			     "%s %s HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json\r\n"
			     "Content-Length: %zu\r\n\r\n",
			     method, path, strlen(body));
	else
		n = snprintf(head, sizeof(head), "%s %s HTTP/1.0\r\nHost: localhost\r\n\r\n", method, path);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		fprintf(stderr, "pv-example: request too long\n");
		return -1;
	}

	fd = connect_to(socket_path);
	if (fd < 0)
		return -1;
	if (write_all(fd, head, (size_t)n) < 0 || (body != NULL && write_all(fd, body, strlen(body)) < 0)) {
		fprintf(stderr, "pv-example: write: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	resp = read_all(fd, &len, &failed);
	close(fd);
	if (resp == NULL)
		return -1;

	if (len == 0) {
		fprintf(stderr, "pv-example: empty response from %s\n", socket_path);
	} else {
		size_t line_len = strcspn(resp, "\r\n");
		char *body_start = strstr(resp, "\r\n\r\n");

		printf("%.*s\n", (int)line_len, resp);
		sep = memchr(resp, ' ', line_len);
		if (strncmp(resp, "HTTP/", 5) == 0 && sep != NULL)
			code = atoi(sep + 1);
		if (print_body && body_start != NULL && body_start[4] != '\0') {
			fputs(body_start + 4, stdout);
			if (resp[len - 1] != '\n')
				putchar('\n');
		}
	}
	free(resp);
	return code;
}

static int cmd_signal(const char *type)
{
	char escaped[256];
	char body[320];

	if (json_escape(type, escaped, sizeof(escaped)) < 0) {
		fprintf(stderr, "pv-example: signal type too long\n");
		return 2;
	}
	snprintf(body, sizeof(body), "{\"type\":\"%s\",\"payload\":\"\"}", escaped);
	return ctrl_request("POST", "/signal", body, 0) == 200 ? 0 : 1;
}

static int cmd_get(const char *path)
{
	if (path[0] != '/') {
		fprintf(stderr, "pv-example: path must start with /\n");
		return 2;
	}
	return ctrl_request("GET", path, NULL, 1) == 200 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return usage();
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argv[2]);
	if (strcmp(argv[1], "connect") == 0)
		return cmd_connect(argv[2]);
	if (strcmp(argv[1], "signal") == 0)
		return cmd_signal(argv[2]);
	if (strcmp(argv[1], "get") == 0)
		return cmd_get(argv[2]);
	return usage();
}
