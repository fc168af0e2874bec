// SPDX-License-Identifier: MIT
// prog_clean_cxx.cc - for tests/tools/clean_programs.sh: a C++ program
// without leaks that uses iostreams, strings, a vector and an exception:
// its report must show 0 remaining blocks after the default suppressions
// (libstdc++'s emergency exception pool is counted as suppressed).
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

int main() {
  std::vector<std::string> v;
  for (int i = 0; i < 100; i++)
    v.push_back(std::string(2000, 'x'));
  try {
    throw std::runtime_error(std::string(3000, 'e'));
  } catch (const std::exception &e) {
    std::cout << "caught " << std::string(e.what()).size() << std::endl;
  }
  std::cout << "size " << v.size() << std::endl;
  return 0;
}
