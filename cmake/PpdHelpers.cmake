# Helpers that keep every folder's CMakeLists.txt a short list of sources and dependencies.

set(PPD_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers)

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

# ppd_add_library(<name> SOURCES ... DEPS ...): library ppd_<name> with src/ as include root.
function(ppd_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;AVX2_SOURCES" ${ARGN})
  add_library(ppd_${name} STATIC ${ARG_SOURCES} ${ARG_AVX2_SOURCES})
  target_include_directories(ppd_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(ppd_${name} PUBLIC ${ARG_DEPS})
  if(ARG_AVX2_SOURCES)
    # Only these files may use AVX2/FMA; callers reach them through run-time dispatch.
    set_source_files_properties(${ARG_AVX2_SOURCES} PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c")
  endif()
  ppd_target_defaults(ppd_${name})
endfunction()

# ppd_add_test(<name> SOURCES ... DEPS ...): one GoogleTest binary registered with CTest.
function(ppd_add_test name)
  if(NOT PPD_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
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
