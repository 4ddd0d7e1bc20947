/* clockshift: an LD_PRELOAD library that moves a process's clocks by an offset read from
 * a file, for the engine oracle (tests/engines/oracle.py, SANDBOX_ORACLE_CLOCK).
 *
 * Why not libfaketime: Firefox's allocator (mozjemalloc) asks std::chrono::steady_clock
 * for the time while it initialises under its own lock, before libfaketime's constructor
 * has run; libfaketime then initialises inside that call, and its failed dlsym lookups
 * (dlerror) and sem_open allocate, so Firefox deadlocks at start-up. This library never
 * allocates, takes no lock and never resolves symbols: it makes the system calls itself and
 * reads its settings from `environ` directly (Firefox's getenv takes a lock that its setenv
 * holds while it allocates).
 *
 * CLOCKSHIFT_FILE names a file holding a signed number of seconds ("+7300"); it is re-read
 * (pread, the file rewritten in place) at most every 10 ms of real monotonic time.
 * CLOCK_REALTIME (gettimeofday, time), CLOCK_MONOTONIC and CLOCK_BOOTTIME (with their
 * coarse and raw variants) are all moved, unless CLOCKSHIFT_ONLY=realtime or
 * CLOCKSHIFT_ONLY=monotonic names the one family to move. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define REREAD_NS 10000000LL

static int clock_fd = -2;
static int64_t offset_s;
static int64_t next_read_ns;

extern char **environ;

/* getenv without getenv's lock. */
static const char *setting(const char *name)
{
    size_t len = strlen(name);
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    return NULL;
}

static long real_gettime(clockid_t id, struct timespec *ts)
{
    return syscall(SYS_clock_gettime, id, ts);
}

static int64_t parse_seconds(const char *text, long len)
{
    int64_t sign = 1, value = 0;
    long i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t'))
        i++;
    if (i < len && (text[i] == '+' || text[i] == '-'))
        sign = text[i++] == '-' ? -1 : 1;
    for (; i < len && text[i] >= '0' && text[i] <= '9'; i++)
        value = value * 10 + (text[i] - '0');
    return sign * value;
}

static int64_t current_offset(void)
{
    struct timespec now;
    if (real_gettime(CLOCK_MONOTONIC, &now) != 0)
        return __atomic_load_n(&offset_s, __ATOMIC_RELAXED);
    int64_t ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
    if (ns < __atomic_load_n(&next_read_ns, __ATOMIC_RELAXED))
        return __atomic_load_n(&offset_s, __ATOMIC_RELAXED);
    __atomic_store_n(&next_read_ns, ns + REREAD_NS, __ATOMIC_RELAXED);
    int fd = __atomic_load_n(&clock_fd, __ATOMIC_ACQUIRE);
    if (fd == -2) {
        const char *path = setting("CLOCKSHIFT_FILE");
        int opened = path ? (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC) : -1;
        int expected = -2;
        if (!__atomic_compare_exchange_n(&clock_fd, &expected, opened, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
            if (opened >= 0)
                syscall(SYS_close, opened);
        }
        fd = __atomic_load_n(&clock_fd, __ATOMIC_ACQUIRE);
    }
    if (fd >= 0) {
        char buf[32];
        long n = syscall(SYS_pread64, fd, buf, sizeof buf, 0);
        if (n > 0)
            __atomic_store_n(&offset_s, parse_seconds(buf, n), __ATOMIC_RELAXED);
    }
    return __atomic_load_n(&offset_s, __ATOMIC_RELAXED);
}

static int moved(clockid_t id)
{
    const char *only = setting("CLOCKSHIFT_ONLY");
    int wall = id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE;
    int mono = id == CLOCK_MONOTONIC || id == CLOCK_MONOTONIC_COARSE ||
               id == CLOCK_MONOTONIC_RAW || id == CLOCK_BOOTTIME;
    if (only && strcmp(only, "realtime") == 0)
        return wall;
    if (only && strcmp(only, "monotonic") == 0)
        return mono;
    return wall || mono;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    long r = real_gettime(id, ts);
    if (r == 0 && moved(id))
        ts->tv_sec += current_offset();
    return (int)r;
}

int __clock_gettime(clockid_t id, struct timespec *ts)
{
    return clock_gettime(id, ts);
}

int gettimeofday(struct timeval *tv, void *tz)
{
    struct timespec ts;
    (void)tz;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return -1;
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
    return 0;
}

time_t time(time_t *out)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (time_t)-1;
    if (out)
        *out = ts.tv_sec;
    return ts.tv_sec;
}
