/* hostmap: an LD_PRELOAD library that resolves a few host names to 127.0.0.1, for the
 * WebKit engine oracle (tests/engines/oracle.py). Chromium maps names with
 * --host-resolver-rules and Firefox with its network.dns.localDomains pref; WebKitGTK has
 * neither, and the fixtures whose bug needs a real (not potentially trustworthy) host name,
 * such as an http API called from an https page, use `*.example.test` names.
 *
 * HOSTMAP_NAMES is a comma-separated list of exact names (case-insensitive). getaddrinfo
 * for one of them asks the real getaddrinfo for "127.0.0.1" instead; every other name, and
 * every other call, goes through untouched. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef int (*getaddrinfo_fn)(const char *, const char *, const struct addrinfo *,
                              struct addrinfo **);

/* Whether `node` is one of the comma-separated names in `list`. */
static int listed(const char *list, const char *node)
{
    size_t len = strlen(node);
    while (list && *list) {
        const char *end = strchr(list, ',');
        size_t n = end ? (size_t)(end - list) : strlen(list);
        if (n == len && strncasecmp(list, node, n) == 0)
            return 1;
        list = end ? end + 1 : NULL;
    }
    return 0;
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    static getaddrinfo_fn real;
    if (!real)
        real = (getaddrinfo_fn)dlsym(RTLD_NEXT, "getaddrinfo");
    if (node && listed(getenv("HOSTMAP_NAMES"), node))
        node = "127.0.0.1";
    return real(node, service, hints, res);
}
