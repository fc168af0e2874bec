/* SPDX-License-Identifier: MIT */
/*
 * inv_unwind_owner.c - C only: dlopens libstdc++.so.6 (which needs
 * libgcc_s.so.1), then looks up _Unwind_RaiseException in the global scope
 * and prints the file dladdr names for it ("owner <path>").  C++ exceptions
 * thrown by the program must go through libgcc_s, not through an unwinder
 * that the preloaded library brought along.  Exit 77 when libstdc++.so.6
 * cannot be loaded.
 */
#include <dlfcn.h>
#include <stdio.h>

int main(void) {
  void *h = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_GLOBAL);
  if (!h) {
    fprintf(stderr, "dlopen libstdc++.so.6: %s\n", dlerror());
    return 77;
  }
  void *f = dlsym(RTLD_DEFAULT, "_Unwind_RaiseException");
  Dl_info di;
  if (!f || !dladdr(f, &di) || !di.dli_fname) {
    printf("owner none\n");
    return 0;
  }
  printf("owner %s\n", di.dli_fname);
  return 0;
}
