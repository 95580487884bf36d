// A user program built against the installed mixprec package.
#include <mixprec/mixprec.hpp>

#include <iostream>

int main() {
  mixprec::array<float> x(1000), y(1000);
  mixprec::fill(x, 1.0);
  mixprec::fill(y, 2.0);
  mixprec::axpy(3.0, x, y);
  const double d = mixprec::dot(x, y);
  std::cout << "consumer: mixprec " << mixprec::version_string() << ", dot = " << d << "\n";
  return d == 5000.0 ? 0 : 1;
}
