// Floating point in round-to-nearest: arithmetic, libm, conversions, printf of special values.
#include <stdio.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

int main(void) {
  volatile double x = 0.1, y = 3.0, z = -0.0;
  volatile float fx = 0.1f, fy = 3.0f;
  printf("%.17g %.17g %.17g %.17g\n", x + y, x * y, x / y, sqrt(y));
  printf("%.9g %.9g %.9g %.9g\n", fx + fy, fx * fy, fx / fy, sqrtf(fy));
  printf("%a %a %a\n", x, (double)fx, 1.0 / 3.0);
  printf("%g %g %g %g %g\n", 1.0 / z, -1.0 / z, z, NAN, -INFINITY);
  printf("%f %e %g\n", 1e300 * 1e10, 1e-310, 5e-324);
  double s = 0;
  for (int i = 1; i <= 1000; i++) s += 1.0 / i;
  printf("harmonic %.17g\n", s);
  printf("%ld %lu %d %u\n", (long)-2.9, (unsigned long)1e19, (int)1e10, (unsigned)-1.0);
  printf("%.17g %.17g %.17g\n", (double)INT64_MAX, (double)(uint64_t)-1, (double)(float)16777217);
  printf("%.3f %.3f %.3f %.3f\n", floor(-2.5), ceil(-2.5), round(-2.5), trunc(-2.5));
  printf("%.17g %.17g\n", fmin(1.0, NAN), fmax(NAN, -1.0));
  return 0;
}
