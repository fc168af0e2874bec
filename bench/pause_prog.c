/* SPDX-License-Identifier: MIT */
/*
 * pause_prog.c - the slowest allocation calls (bench/pause.sh): allocates N
 * blocks of SIZE bytes in a loop, all kept live, timing every malloc, then
 * frees them, timing every free.  Prints one line per phase: calls, total
 * ms, the slowest call in ms and its index, and the calls over 1 ms.
 *
 *   pause_prog N SIZE
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double pp_now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

typedef struct pp_phase_s {
  double total, worst;
  size_t worst_at, over_1ms;
} pp_phase_t;

static void pp_note(pp_phase_t *ph, size_t i, double d) {
  if (d > ph->worst) {
    ph->worst = d;
    ph->worst_at = i;
  }
  ph->over_1ms += d > 1.0;
}

static void pp_print(const char *name, size_t n, const pp_phase_t *ph) {
  printf("%s %zu total_ms %.1f slowest_ms %.3f at %zu over_1ms %zu\n", name, n, ph->total,
         ph->worst, ph->worst_at, ph->over_1ms);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: pause_prog N SIZE\n");
    return 2;
  }
  size_t n = strtoul(argv[1], NULL, 0), size = strtoul(argv[2], NULL, 0);
  void **v = malloc(n * sizeof *v);
  if (!v) return 1;
  pp_phase_t a = {0}, f = {0};
  double t0 = pp_now_ms();
  for (size_t i = 0; i < n; i++) {
    double s = pp_now_ms();
    v[i] = malloc(size);
    pp_note(&a, i, pp_now_ms() - s);
    if (!v[i]) return 1;
  }
  a.total = pp_now_ms() - t0;
  t0 = pp_now_ms();
  for (size_t i = 0; i < n; i++) {
    double s = pp_now_ms();
    free(v[i]);
    pp_note(&f, i, pp_now_ms() - s);
  }
  f.total = pp_now_ms() - t0;
  free(v);
  pp_print("malloc", n, &a);
  pp_print("free", n, &f);
  return 0;
}
