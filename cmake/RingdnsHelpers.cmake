# Helpers that declare ringdns targets the same way everywhere:
#   ringdns_library(NAME [PREFIX DIR] SRCS ... DEPS ...)
#                                                -> ringdns_<name>, alias ringdns::<name>; its
#                                                   headers included as "DIR/x.h" (default NAME)
#   ringdns_test(NAME SRCS ... DEPS ...)         -> a GoogleTest executable registered with ctest
#   ringdns_fuzzer(NAME SRC ... DEPS ...)        -> libFuzzer binary (clang) or corpus replay test
#   ringdns_bench(NAME SRCS ... DEPS ...)        -> a Google Benchmark executable

set(RINGDNS_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wimplicit-fallthrough -Werror)

# GCC 12 reports false -Warray-bounds/-Wstringop-* inside libstdc++'s
# vector::insert and string concatenation at -O3 (GCC bugs 107852, 105329); test and
# benchmark code builds vectors and strings freely, library code keeps the warnings.
set(RINGDNS_TEST_WARNINGS ${RINGDNS_WARNINGS})
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND RINGDNS_TEST_WARNINGS -Wno-array-bounds -Wno-stringop-overflow -Wno-stringop-overread
       -Wno-restrict)
endif()

if(RINGDNS_FUZZ)
  # Coverage instrumentation for every library, so libFuzzer sees inside wire/ and zones/.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# core/base/invariant.h: a broken invariant aborts in debug and sanitizer builds, where the
# tests run; a release build counts it and recovers.
add_compile_definitions(
  $<$<OR:$<CONFIG:Debug>,$<BOOL:${RINGDNS_SANITIZE}>,$<BOOL:${RINGDNS_TSAN}>>:RINGDNS_CHECK_INVARIANTS>)

if(RINGDNS_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

if(RINGDNS_TSAN)
  # Shards, the prober, HTTP threads and the scrape share state only through atomics;
  # this build checks that claim. GCC warns that TSan cannot see atomic_thread_fence.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -Wno-error=tsan)
  add_link_options(-fsanitize=thread)
endif()

set_property(GLOBAL PROPERTY RINGDNS_HEADERS "")

function(ringdns_library name)
  cmake_parse_arguments(ARG "" "PREFIX" "SRCS;HDRS;DEPS" ${ARGN})
  if(NOT ARG_PREFIX)
    set(ARG_PREFIX ${name})
  endif()
  add_library(ringdns_${name} STATIC ${ARG_SRCS} ${ARG_HDRS})
  add_library(ringdns::${name} ALIAS ringdns_${name})
  # Includes are root-relative ("wire/name.h"), but the source root holds every module,
  # so -I<root> would let wire/ include core/. Instead each module exports an include
  # root holding one symlink, to itself, at its PREFIX ("core/view" for a folder of
  # core/); a target sees exactly the modules it links.
  set(root ${PROJECT_BINARY_DIR}/include_roots/${name})
  get_filename_component(parent ${root}/${ARG_PREFIX} DIRECTORY)
  file(MAKE_DIRECTORY ${parent})
  if(NOT EXISTS ${root}/${ARG_PREFIX})
    file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR} ${root}/${ARG_PREFIX} SYMBOLIC)
  endif()
  target_include_directories(ringdns_${name} PUBLIC ${root})
  target_compile_options(ringdns_${name} PRIVATE ${RINGDNS_WARNINGS})
  target_link_libraries(ringdns_${name} PUBLIC ${ARG_DEPS})
  foreach(h ${ARG_HDRS})
    set_property(GLOBAL APPEND PROPERTY RINGDNS_HEADERS "${name}|${CMAKE_CURRENT_SOURCE_DIR}/${h}")
  endforeach()
endfunction()

function(ringdns_test name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_compile_options(${name} PRIVATE ${RINGDNS_TEST_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  include(GoogleTest)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${ARG_LABELS}")
endfunction()

function(ringdns_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  set(corpus ${PROJECT_SOURCE_DIR}/fuzz/corpus/${name})
  if(RINGDNS_FUZZ)
    add_executable(${name} ${ARG_SRCS})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer ${RINGDNS_WARNINGS})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_compile_definitions(${name} PRIVATE RINGDNS_LIBFUZZER=1)
  else()
    add_executable(${name} ${ARG_SRCS} ${PROJECT_SOURCE_DIR}/fuzz/replay_main.cc)
    target_compile_options(${name} PRIVATE ${RINGDNS_WARNINGS})
  endif()
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/fuzz)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  if(RINGDNS_TESTS)
    # Both builds replay the seed corpus as a regression test; with libFuzzer, -runs=0
    # executes every corpus input once and mutates nothing.
    if(RINGDNS_FUZZ)
      add_test(NAME fuzz_replay.${name} COMMAND ${name} -runs=0 ${corpus})
    else()
      add_test(NAME fuzz_replay.${name} COMMAND ${name} ${corpus})
    endif()
    set_tests_properties(fuzz_replay.${name} PROPERTIES LABELS fuzz)
  endif()
endfunction()

function(ringdns_bench name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_compile_options(${name} PRIVATE ${RINGDNS_TEST_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark)
endfunction()

# checkheaders: compile every public header on its own, so each is self-contained.
function(ringdns_check_headers)
  get_property(entries GLOBAL PROPERTY RINGDNS_HEADERS)
  set(srcs "")
  set(libs "")
  foreach(e ${entries})
    string(REPLACE "|" ";" parts "${e}")
    list(GET parts 0 module)
    list(GET parts 1 header)
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${header})
    string(MAKE_C_IDENTIFIER ${rel} id)
    set(src ${PROJECT_BINARY_DIR}/checkheaders/${id}.cc)
    file(WRITE ${src}.tmp "#include \"${rel}\"\n")
    file(COPY_FILE ${src}.tmp ${src} ONLY_IF_DIFFERENT)
    list(APPEND srcs ${src})
    list(APPEND libs ringdns::${module})
  endforeach()
  list(REMOVE_DUPLICATES libs)
  add_library(ringdns_checkheaders OBJECT EXCLUDE_FROM_ALL ${srcs})
  target_compile_options(ringdns_checkheaders PRIVATE ${RINGDNS_WARNINGS})
  target_link_libraries(ringdns_checkheaders PRIVATE ${libs})
  add_custom_target(checkheaders DEPENDS ringdns_checkheaders)
endfunction()
