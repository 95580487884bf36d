/* A C program built against the installed package: the C API's header and library. */
#include <stdio.h>

#include "mixprec/mixprec.h"

int main(void) {
  mixprec_context ctx;
  mixprec_array x;
  double v[3] = {3, 0, 4}, norm = 0;
  int64_t n = 3;
  if (mixprec_context_create_cpu(1, &ctx) != MIXPREC_SUCCESS ||
      mixprec_array_wrap(ctx, v, MIXPREC_F64, 1, &n, NULL, &x) != MIXPREC_SUCCESS ||
      mixprec_nrm2(x, MIXPREC_ACC_STANDARD, &norm) != MIXPREC_SUCCESS) {
    fprintf(stderr, "%s\n", mixprec_last_error());
    return 1;
  }
  mixprec_array_destroy(x);
  mixprec_context_destroy(ctx);
  printf("C consumer: mixprec %s, nrm2 = %g\n", mixprec_version_string(), norm);
  return norm == 5.0 ? 0 : 1;
}
