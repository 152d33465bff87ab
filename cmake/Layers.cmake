# One library per folder under src/, each allowed to use only the layers LayerEdges.cmake lists for it.
include(${CMAKE_CURRENT_LIST_DIR}/LayerEdges.cmake)

# tranche_layer(NAME SOURCES ... DEPS <layers> LIBS <external targets>)
function(tranche_layer NAME)
  cmake_parse_arguments(L "" "" "SOURCES;DEPS;LIBS" ${ARGN})
  if(NOT NAME IN_LIST TRANCHE_LAYERS)
    message(FATAL_ERROR "layer '${NAME}' is not listed in cmake/LayerEdges.cmake")
  endif()
  foreach(dep IN LISTS L_DEPS)
    if(NOT dep IN_LIST TRANCHE_ALLOWED_${NAME})
      message(FATAL_ERROR "layer '${NAME}' may not depend on '${dep}' (allowed: ${TRANCHE_ALLOWED_${NAME}})")
    endif()
  endforeach()
  add_library(tranche_${NAME} STATIC ${L_SOURCES})
  target_include_directories(tranche_${NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  foreach(dep IN LISTS L_DEPS)
    target_link_libraries(tranche_${NAME} PUBLIC tranche_${dep})
  endforeach()
  if(L_LIBS)
    target_link_libraries(tranche_${NAME} PUBLIC ${L_LIBS})
  endif()
endfunction()

# tranche_test(NAME LAYER <layer> [KIND unit|golden] SOURCES ... [LIBS ...])
# Every test carries its layer as its label (`ctest -L md`). Golden tests (real recorded data, slower) are named
# "golden/<suite>.<test>"; the sanitizer build runs every other test: the unit and property tests.
function(tranche_test NAME)
  cmake_parse_arguments(T "" "LAYER;KIND" "SOURCES;LIBS" ${ARGN})
  add_executable(${NAME} ${T_SOURCES})
  target_link_libraries(${NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${NAME} PRIVATE
    TRANCHE_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    TRANCHE_SHARED_DATA_DIR="${PROJECT_SOURCE_DIR}/../shared/data")
  set(prefix "")
  if(T_KIND STREQUAL "golden")
    set(prefix "golden/")
  endif()
  gtest_discover_tests(${NAME}
    TEST_PREFIX "${prefix}"
    # Property tests (rapidcheck) run with a fixed seed; rapidcheck prints it with any failure.
    PROPERTIES LABELS ${T_LAYER} ENVIRONMENT "RC_PARAMS=seed=20261124 max_success=300"
    DISCOVERY_TIMEOUT 60)
endfunction()
