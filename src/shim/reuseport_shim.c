/* pgrt's reuseport shim: loaded into postgres with LD_PRELOAD when a node may sleep
 * (PGRT_IDLE_TIMEOUT), so that postgres's TCP listeners join the SO_REUSEPORT groups pgrt
 * holds on the client port (src/idle/reuseport.h). It sets SO_REUSEPORT on every TCP socket
 * postgres binds to the port named by PGRT_REUSEPORT_PORT; nothing else changes. Its
 * constructor removes LD_PRELOAD and that variable from the environment, so postgres's
 * children that exec (archive_command, restore_command, ...) do not load it. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Set once by the constructor, before postgres's main runs; read by bind() afterwards. */
static int target_port;

__attribute__((constructor)) static void pgrt_reuseport_init(void) {
  const char* port = getenv("PGRT_REUSEPORT_PORT");
  if (port != NULL) target_port = atoi(port);
  unsetenv("PGRT_REUSEPORT_PORT");
  unsetenv("LD_PRELOAD");
}

static int port_of(const struct sockaddr* addr, socklen_t len) {
  if (addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in))
    return ntohs(((const struct sockaddr_in*)addr)->sin_port);
  if (addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6))
    return ntohs(((const struct sockaddr_in6*)addr)->sin6_port);
  return -1;
}

/* glibc's own type for bind's address (a transparent union under _GNU_SOURCE). */
int bind(int fd, __CONST_SOCKADDR_ARG address, socklen_t len) {
  const struct sockaddr* addr = address.__sockaddr__;
  typedef int (*bind_fn)(int, const struct sockaddr*, socklen_t);
  bind_fn real;
  void* found = dlsym(RTLD_NEXT, "bind");
  if (found == NULL) {
    errno = ENOSYS;
    return -1;
  }
  memcpy(&real, &found, sizeof real); /* ISO C has no cast from object to function pointer */
  int type = 0;
  socklen_t type_len = sizeof type;
  if (addr != NULL && target_port > 0 && port_of(addr, len) == target_port &&
      getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) == 0 && type == SOCK_STREAM) {
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof yes);
  }
  return real(fd, addr, len);
}
