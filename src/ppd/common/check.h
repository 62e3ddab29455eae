// PPD_CHECK: aborts on a broken invariant, i.e. a bug in ppd itself. Never use it for
// anything a user, a peer or load can cause: those return a Status.
#pragma once

#include <cstdio>
#include <cstdlib>

#define PPD_CHECK(cond)                                                                   \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)
