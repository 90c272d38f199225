# Precompiled headers for the whole tree.
#
# Parsing the standard library and POCO headers was about 40 % of a file's compile time
# (measured: 6.0 s CPU per file on average, 2.5 s of it -fsyntax-only). A precompiled
# header cuts that to a fraction of a second per file. GCC only uses a .gch that was built
# with the same code-generation flags, so there is one small host target per flag set
# (-fPIC, -fPIC with hidden visibility, -fPIE, -fPIE with GoogleTest) and every other
# target reuses its host's header (REUSE_FROM) instead of building its own. kb_apply_pch()
# runs once at the end of the top-level CMakeLists.txt and walks every target, so targets
# added later get it without touching their CMakeLists. A .gch GCC cannot use is ignored
# and the header is parsed as text, so a mismatch costs speed, never correctness.
#
# OFF by default (-DKB_PCH=ON to try): with GCC 12 a TU compiled against the .gch gets
# middle-end false positives from inlined libstdc++ code that the same TU without the .gch
# does not get (the system-header suppression is lost through the PCH), e.g.
# -Werror=stringop-overread on std::string::find('\0') in core/src/sdk/JsonInput.cpp,
# plugins/booking/src/CheckinHooks.cpp, tests/unit/lua/CliTest.cpp. Until every such TU is
# rewritten (or GCC is fixed) the -Werror build fails with it. Measured on a sample of 21 TUs
# (RelWithDebInfo, CPU seconds): 5.7 s/TU without, 4.0 s/TU with the header (docs/operations.md).

set(KB_PCH_HEADERS
  <algorithm> <atomic> <chrono> <filesystem> <fstream> <functional> <map> <memory>
  <mutex> <optional> <set> <sstream> <stdexcept> <string> <string_view> <thread> <vector>
  <Poco/JSON/Array.h> <Poco/JSON/Object.h> <Poco/JSON/Parser.h>
  <Poco/Net/HTTPRequest.h> <Poco/Net/HTTPResponse.h>)

function(kb_pch_collect_targets dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub ${subdirs})
    kb_pch_collect_targets(${sub} sub_targets)
    list(APPEND targets ${sub_targets})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

function(kb_apply_pch)
  # GCC only: clang refuses (not ignores) a PCH built with other flags, and the libFuzzer
  # build (KB_FUZZ, clang) instruments some libraries and not others.
  if(NOT KB_PCH OR NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    return()
  endif()
  set(src ${CMAKE_BINARY_DIR}/kb_pch_host.cpp)
  file(WRITE ${src} "// Compiles nothing; its target only hosts a precompiled header.\n")
  set(main ${CMAKE_BINARY_DIR}/kb_pch_host_main.cpp)
  file(WRITE ${main} "int main() { return 0; }\n")
  # The hosts take kb_warnings too: -Wpedantic changes a predefined macro
  # (__cpp_runtime_arrays), and GCC refuses a .gch built with other predefined macros.
  set(poco Poco::Net Poco::JSON Poco::Foundation kb_warnings)

  add_library(kb_pch_pic STATIC ${src})
  target_link_libraries(kb_pch_pic PRIVATE ${poco})
  add_library(kb_pch_hidden STATIC ${src})
  target_link_libraries(kb_pch_hidden PRIVATE ${poco})
  set_target_properties(kb_pch_hidden PROPERTIES CXX_VISIBILITY_PRESET hidden
                                                 VISIBILITY_INLINES_HIDDEN ON)
  add_executable(kb_pch_pie ${main})
  target_link_libraries(kb_pch_pie PRIVATE ${poco})
  set(hosts kb_pch_pic kb_pch_hidden kb_pch_pie)
  if(TARGET GTest::gtest)
    add_executable(kb_pch_test ${main})
    target_link_libraries(kb_pch_test PRIVATE ${poco} GTest::gtest)
    target_precompile_headers(kb_pch_test PRIVATE ${KB_PCH_HEADERS} <gtest/gtest.h>)
  endif()
  foreach(h ${hosts})
    target_precompile_headers(${h} PRIVATE ${KB_PCH_HEADERS})
  endforeach()

  kb_pch_collect_targets(${CMAKE_SOURCE_DIR} targets)
  foreach(t ${targets})
    get_target_property(type ${t} TYPE)
    if(NOT type MATCHES "^(EXECUTABLE|STATIC_LIBRARY|SHARED_LIBRARY|MODULE_LIBRARY|OBJECT_LIBRARY)$"
       OR t MATCHES "^kb_pch_")
      continue()
    endif()
    get_target_property(own ${t} PRECOMPILE_HEADERS)
    if(own)
      continue()
    endif()
    get_target_property(libs ${t} LINK_LIBRARIES)
    if(NOT "kb_warnings" IN_LIST libs)
      continue()  # other warning flags than the hosts' (see above): parse as usual
    endif()
    get_target_property(vis ${t} CXX_VISIBILITY_PRESET)
    get_target_property(inl ${t} VISIBILITY_INLINES_HIDDEN)
    if(type STREQUAL "EXECUTABLE")
      if("GTest::gtest" IN_LIST libs AND TARGET kb_pch_test)
        set(host kb_pch_test)
      else()
        set(host kb_pch_pie)
      endif()
    elseif(vis STREQUAL "hidden" AND inl)
      set(host kb_pch_hidden)
    elseif(NOT vis)
      set(host kb_pch_pic)
    else()
      continue()  # a flag set without a host (hidden, inlines visible): parse as usual
    endif()
    target_precompile_headers(${t} REUSE_FROM ${host})
    # A .gch GCC cannot use stays a warning (CMake adds -Winvalid-pch) under -Werror.
    target_compile_options(${t} PRIVATE -Wno-error=invalid-pch)
  endforeach()
endfunction()
