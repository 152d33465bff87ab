# Runs CheckLayers.cmake on the fixture tree (tests/fixtures/layer_violation) and expects it to fail naming every
# offence there, and nothing that is allowed.
# Run as: cmake -DCHECK=<CheckLayers.cmake> -DFIXTURE=<fixture tree> -P layer_check_test.cmake
execute_process(
  COMMAND ${CMAKE_COMMAND} -DROOT=${FIXTURE} -DTARGETS_FILE=${FIXTURE}/layer_targets.cmake
          -DEDGES_FILE=${FIXTURE}/layer_edges.cmake -P ${CHECK}
  RESULT_VARIABLE status
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)
if(status EQUAL 0)
  message(FATAL_ERROR "the layer check passed on a fixture full of offences:\n${output}")
endif()
# CMake wraps long messages; the expectations are read with the output's whitespace folded.
string(REGEX REPLACE "[ \t\r\n]+" " " folded "${output}")
set(expected
  "src/md/bad.hpp: `#include \"oms/order_book.hpp\"`: layer 'md' may not use 'oms' (it may use: core)"
  "src/md/book.hpp: `#include <oms/order_book.hpp>`: layer 'md' may not use 'oms' (it may use: core)"
  "TRANCHE_ALLOWED_oms lists 'md', but no file under src/oms/ includes a 'md/' header: remove the unused edge"
  "src/oms/CMakeLists.txt links 'md' (DEPS), but no file under src/oms/ includes a 'md/' header"
  "TRANCHE_PENDING_md lists 'core', which src/md/ now includes"
  "tests/book_tool_test.cpp: `#include <oms/order_book.hpp>`: target 'book_tool_test' does not reach layer 'oms' \
(it links md, which reach: md, core)"
  "tests/stray_test.cpp: `#include \"core/ids.hpp\"`: the file belongs to no target")
set(missing "")
foreach(line IN LISTS expected)
  string(FIND "${folded}" "${line}" at)
  if(at EQUAL -1)
    string(APPEND missing "\n  ${line}")
  endif()
endforeach()
# Allowed includes stay quiet: a layer's own lower layer, a header that is no layer, a target's own reach.
foreach(quiet "<core/ids.hpp>" "nlohmann" "<md/book.hpp>" "src/oms/order_book.hpp")
  string(FIND "${folded}" "${quiet}" at)
  if(NOT at EQUAL -1)
    string(APPEND missing "\n  (not an offence, but reported) ${quiet}")
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "the layer check's report differs from what the fixture holds:${missing}\nIt said:\n${output}")
endif()
