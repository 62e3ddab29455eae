# Helpers that keep every folder's CMakeLists.txt a short list of sources and dependencies.

# -Wno-subobject-linkage: coroutine rule 3 (docs/decisions/0005): in a unity build GCC warns
# when a coroutine frame holds a type from another source file's anonymous namespace.
set(PPD_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers
                 -Wno-subobject-linkage)

function(ppd_target_defaults target)
  target_compile_options(${target} PRIVATE ${PPD_WARNINGS})
  if(PPD_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
  if(PPD_TSAN)
    target_compile_options(${target} PRIVATE -fsanitize=thread -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=thread)
  endif()
endfunction()

# Every library and test compiles its sources in batches of 8 per translation unit (a unity
# build): parsing and instantiating Asio/Beast, nlohmann::json, fmt and GoogleTest once per
# batch instead of once per file cuts compile time two- to threefold, which keeps CI (release
# and ASan builds on 2 cores) within its budget. So the files of one target must not repeat
# names in their anonymous namespaces. AVX2 sources stay separate translation units.
# PPD_UNITY_BATCH_SIZE=0 puts every file of a target into one translation unit: a build that
# checks that no two files of a target repeat a name in their anonymous namespaces.
set(PPD_UNITY_BATCH_SIZE 8 CACHE STRING "Source files per unity translation unit (0: all of a target)")
function(ppd_unity target)
  set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE ${PPD_UNITY_BATCH_SIZE})
endfunction()

# ppd_add_library(<name> SOURCES ... DEPS ... [AVX2_SOURCES ...]): library ppd_<name> with src/
# as include root.
function(ppd_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;AVX2_SOURCES" ${ARGN})
  add_library(ppd_${name} STATIC ${ARG_SOURCES} ${ARG_AVX2_SOURCES})
  ppd_unity(ppd_${name})
  target_include_directories(ppd_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(ppd_${name} PUBLIC ${ARG_DEPS})
  if(ARG_AVX2_SOURCES)
    # Only these files may use AVX2/FMA; callers reach them through run-time dispatch.
    set_source_files_properties(${ARG_AVX2_SOURCES} PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c"
                                                            SKIP_UNITY_BUILD_INCLUSION ON)
  endif()
  ppd_target_defaults(ppd_${name})
endfunction()

# ppd_add_test(<name> SOURCES ... DEPS ... [BLAS_MAIN]): one GoogleTest binary registered with
# CTest. BLAS_MAIN: its main() first restarts it with the OpenBLAS kernels `ppd` runs on this
# CPU (kernels/blas_test_main.cc), for binaries whose matmuls go through OpenBLAS.
function(ppd_add_test name)
  if(NOT PPD_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "BLAS_MAIN" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  ppd_unity(${name})
  set(test_main GTest::gtest_main)
  if(ARG_BLAS_MAIN)
    set(test_main ppd_blas_test_main)
  endif()
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest ${test_main} GTest::gmock)
  ppd_target_defaults(${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${ARG_LABELS}")
endfunction()

# ppd_add_benchmark(<name> SOURCES ... DEPS ...): a Google Benchmark binary (not run by CTest).
function(ppd_add_benchmark name)
  if(NOT PPD_BUILD_BENCHMARKS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark)
  ppd_target_defaults(${name})
endfunction()

include(GoogleTest)
