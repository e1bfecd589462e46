// Floating point in every rounding mode (fesetround), with the exception flags (fetestexcept),
// printed exactly with %a: the FPCR.RMode and FPSR cumulative flags as C code sees them.
#include <fenv.h>
#include <math.h>
#include <stdio.h>

static const int modes[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
static const char *names[] = {"nearest", "upward", "downward", "towardzero"};

int main(void) {
  volatile double a = 1.0, b = 3.0, c = 1e308, d = 5e-324, e = -2.5;
  volatile float fa = 1.0f, fb = 3.0f, fc = 3e38f;
  for (int i = 0; i < 4; i++) {
    fesetround(modes[i]);
    feclearexcept(FE_ALL_EXCEPT);
    double q = a / b, s = c * 10, u = d / 3, r = sqrt(b), fm = fma(a / b, b, -a);
    float fq = fa / fb, fs = fc * 10.0f;
    long l = lrint(e);
    double ri = rint(e), ny = nearbyint(2.5);
    int fl = fetestexcept(FE_ALL_EXCEPT);
    printf("%s: %a %a %a %a %a | %a %a | %ld %a %a | flags %x\n", names[i], q, s, u, r, fm, (double)fq, (double)fs, l, ri, ny, fl);
    feclearexcept(FE_ALL_EXCEPT);
    volatile double z = 0.0, nan = z / z;
    int inv = fetestexcept(FE_INVALID) != 0;
    feclearexcept(FE_ALL_EXCEPT);
    volatile double dz = 1.0 / z;
    printf("  invalid %d nan %g divzero %d %g\n", inv, nan, fetestexcept(FE_DIVBYZERO) != 0, dz);
  }
  return 0;
}
