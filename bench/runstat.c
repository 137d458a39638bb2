/* bench/runstat.c: run a command and write its exact resource usage.
 *
 * Build:
 *     gcc -O2 -Wall bench/runstat.c -o build/bench-runstat
 * Run:
 *     build/bench-runstat OUT_FILE CMD [ARG]...
 * Runs CMD (execvp, stdin/stdout/stderr inherited), waits for it with wait4
 * and writes one JSON line to OUT_FILE:
 *     {"exit": N, "user_s": ..., "sys_s": ..., "maxrss_kb": N}
 * then exits with CMD's status (128+signal if it was killed).
 *
 * Why not os.wait4 straight from Python: Linux carries the peak RSS over an
 * exec (fs/exec.c, exec_mmap: signal->maxrss takes the old mm's high-water
 * mark), so a child forked from a Python process reports at least that
 * process's peak RSS, whatever it used itself (a 200 MB parent makes
 * /bin/true report 215 MB).  Forked from this small program, the floor is this
 * program's ~1 MB.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench-runstat OUT_FILE CMD [ARG]...\n");
        return 2;
    }
    FILE *out = fopen(argv[1], "w");
    if (!out) {
        fprintf(stderr, "bench-runstat: cannot open %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "bench-runstat: fork: %s\n", strerror(errno));
        return 2;
    }
    if (pid == 0) {
        fclose(out);
        execvp(argv[2], argv + 2);
        fprintf(stderr, "bench-runstat: cannot run %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "bench-runstat: wait4: %s\n", strerror(errno));
            return 2;
        }
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    fprintf(out, "{\"exit\": %d, \"user_s\": %ld.%06ld, \"sys_s\": %ld.%06ld, \"maxrss_kb\": %ld}\n",
            code, (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
            (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, ru.ru_maxrss);
    if (fclose(out) != 0)
        return 2;
    return code;
}
