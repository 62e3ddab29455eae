# Every third-party dependency comes from a Debian 12 package (scripts/setup.sh installs them).
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(ICU REQUIRED COMPONENTS uc i18n)
find_package(PkgConfig REQUIRED)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)

# OpenBLAS: Debian ships the pthread flavour by default; use its own headers so that
# openblas_set_num_threads() is declared.
find_path(OPENBLAS_INCLUDE_DIR cblas.h
  PATHS /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/openblas
  NO_DEFAULT_PATH)
find_library(OPENBLAS_LIBRARY NAMES openblas
  PATHS /usr/lib/x86_64-linux-gnu/openblas-pthread)
if(NOT OPENBLAS_INCLUDE_DIR OR NOT OPENBLAS_LIBRARY)
  message(FATAL_ERROR "OpenBLAS not found: run scripts/setup.sh (package libopenblas-dev)")
endif()
add_library(ppd_openblas INTERFACE)
target_include_directories(ppd_openblas SYSTEM INTERFACE ${OPENBLAS_INCLUDE_DIR})
target_link_libraries(ppd_openblas INTERFACE ${OPENBLAS_LIBRARY})

if(PPD_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(PPD_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()

# Boost 1.81 (libboost1.81-dev): Asio and Beast, header-only, with C++20 coroutines.
find_package(Boost 1.81.0 REQUIRED CONFIG)
add_library(ppd_boost INTERFACE)
target_link_libraries(ppd_boost INTERFACE Boost::headers Threads::Threads)
target_compile_definitions(ppd_boost INTERFACE BOOST_ASIO_NO_DEPRECATED)
# Coroutine rule 3 (docs/decisions/0005): GCC 12 at -O2 reports Asio's coroutine frames (allocated
# by the frame's own operator new, freed by its matching operator delete) as a mismatched
# new/delete: a known false positive.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(ppd_boost INTERFACE -Wno-mismatched-new-delete)
endif()
