# Build-time layer check. Run as:
#   cmake -DROOT=<source tree> -DTARGETS_FILE=<build>/layer_targets.cmake [-DEDGES_FILE=<edges>] -P CheckLayers.cmake
# It fails, naming every offence, when
#   - a file under src/<layer>/ includes a layer header ("layer/x.hpp" or <layer/x.hpp>) its layer may not use;
#   - a file of a target outside src/ (apps/, examples/, tests/, bench/) includes a layer its target does not reach
#     by its links (directly or through the layers' own links): what the compiler can see is what it links;
#   - a file in a folder of this build outside src/ includes a layer header but belongs to no target, so nothing
#     says what it may use (a folder the build leaves out, bench/ without TRANCHE_BENCH, is checked by a build
#     that has it);
#   - an edge in the edges file (or a layer's DEPS link) is not used by any include of that layer's sources, so the
#     edges list exactly what is used; an edge kept for work in flight is listed in TRANCHE_PENDING_<layer> instead,
#     and is reported once a source uses it, so the pending list empties itself.
# TARGETS_FILE is written at configure time by tranche_write_layer_targets (cmake/Layers.cmake); a test fixture
# brings its own, and its own EDGES_FILE.
cmake_policy(VERSION 3.25)
if(NOT ROOT OR NOT TARGETS_FILE)
  message(FATAL_ERROR
    "usage: cmake -DROOT=<source tree> -DTARGETS_FILE=<file> [-DEDGES_FILE=<file>] -P CheckLayers.cmake")
endif()
if(NOT EDGES_FILE)
  set(EDGES_FILE "${CMAKE_CURRENT_LIST_DIR}/LayerEdges.cmake")
endif()
include("${EDGES_FILE}")
include("${TARGETS_FILE}")

set(violations "")
set(include_regex "^[ \t]*#[ \t]*include[ \t]*[\"<]([a-z_]+)/")

# Appends one offence; its parts are concatenated, so a long message can be written over several lines.
macro(violation)
  string(CONCAT offence ${ARGV})
  list(APPEND violations "${offence}")
endmacro()

# A list as "a, b, c" (a list's own ';' would split a message in two), or "nothing".
function(said out)
  list(JOIN ARGN ", " text)
  if(text STREQUAL "")
    set(text "nothing")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# The include lines of FILE that name one of the layers, each as "<layer>|<line>".
function(layer_includes file out)
  file(STRINGS "${file}" lines REGEX "${include_regex}")
  set(found "")
  foreach(line IN LISTS lines)
    string(REGEX MATCH "${include_regex}" _ "${line}")
    if(CMAKE_MATCH_1 IN_LIST TRANCHE_LAYERS)
      string(STRIP "${line}" line)
      list(APPEND found "${CMAKE_MATCH_1}|${line}")
    endif()
  endforeach()
  set(${out} "${found}" PARENT_SCOPE)
endfunction()

foreach(layer IN LISTS TRANCHE_LAYERS)
  foreach(pending IN LISTS TRANCHE_PENDING_${layer})
    if(NOT pending IN_LIST TRANCHE_ALLOWED_${layer})
      violation("TRANCHE_PENDING_${layer} lists '${pending}', which TRANCHE_ALLOWED_${layer} does not")
    endif()
  endforeach()
endforeach()

# src/<layer>/: every include names the layer itself or one it may use.
file(GLOB layer_dirs LIST_DIRECTORIES true "${ROOT}/src/*")
foreach(dir IN LISTS layer_dirs)
  if(NOT IS_DIRECTORY "${dir}")
    continue()
  endif()
  get_filename_component(layer "${dir}" NAME)
  if(NOT layer IN_LIST TRANCHE_LAYERS)
    violation("src/${layer}: not a layer listed in the edges file")
    continue()
  endif()
  set(used_by_${layer} "")
  file(GLOB_RECURSE sources "${dir}/*.hpp" "${dir}/*.cpp" "${dir}/*.h")
  foreach(src IN LISTS sources)
    file(RELATIVE_PATH rel "${ROOT}" "${src}")
    layer_includes("${src}" includes)
    foreach(include IN LISTS includes)
      string(REGEX REPLACE "^([a-z_]+)\\|(.*)$" "\\1" used "${include}")
      string(REGEX REPLACE "^([a-z_]+)\\|(.*)$" "\\2" line "${include}")
      if(used STREQUAL layer)
        continue()
      endif()
      list(APPEND used_by_${layer} ${used})
      if(NOT used IN_LIST TRANCHE_ALLOWED_${layer})
        said(allowed ${TRANCHE_ALLOWED_${layer}})
        violation("${rel}: `${line}`: layer '${layer}' may not use '${used}' (it may use: ${allowed})")
      endif()
    endforeach()
  endforeach()
endforeach()

# The edges and the layers' links list only what the includes use.
foreach(layer IN LISTS TRANCHE_LAYERS)
  foreach(allowed IN LISTS TRANCHE_ALLOWED_${layer})
    if(allowed IN_LIST used_by_${layer})
      if(allowed IN_LIST TRANCHE_PENDING_${layer})
        violation("TRANCHE_PENDING_${layer} lists '${allowed}', which src/${layer}/ now includes: "
          "remove it from TRANCHE_PENDING_${layer} (the edge stays in TRANCHE_ALLOWED_${layer})")
      endif()
    elseif(NOT allowed IN_LIST TRANCHE_PENDING_${layer})
      violation("TRANCHE_ALLOWED_${layer} lists '${allowed}', but no file under src/${layer}/ includes "
        "a '${allowed}/' header: remove the unused edge")
    endif()
  endforeach()
  foreach(linked IN LISTS TRANCHE_LAYER_DEPS_${layer})
    if(NOT linked IN_LIST used_by_${layer} AND NOT linked IN_LIST TRANCHE_PENDING_${layer})
      violation("src/${layer}/CMakeLists.txt links '${linked}' (DEPS), but no file under src/${layer}/ "
        "includes a '${linked}/' header: remove the unused link")
    endif()
  endforeach()
endforeach()

# Targets outside src/: each include names a layer the target reaches through its links.
set(checked_files "")
foreach(target IN LISTS TRANCHE_CHECKED_TARGETS)
  set(reached "")
  set(pending_layers ${TRANCHE_TARGET_${target}_LAYERS})
  while(pending_layers)
    list(POP_FRONT pending_layers next)
    if(NOT next IN_LIST reached)
      list(APPEND reached ${next})
      list(APPEND pending_layers ${TRANCHE_LAYER_DEPS_${next}})
    endif()
  endwhile()
  foreach(rel IN LISTS TRANCHE_TARGET_${target}_SOURCES)
    if(NOT EXISTS "${ROOT}/${rel}")
      continue()
    endif()
    list(APPEND checked_files "${rel}")
    layer_includes("${ROOT}/${rel}" includes)
    foreach(include IN LISTS includes)
      string(REGEX REPLACE "^([a-z_]+)\\|(.*)$" "\\1" used "${include}")
      string(REGEX REPLACE "^([a-z_]+)\\|(.*)$" "\\2" line "${include}")
      if(NOT used IN_LIST reached)
        said(links ${TRANCHE_TARGET_${target}_LAYERS})
        said(reach ${reached})
        violation("${rel}: `${line}`: target '${target}' does not reach layer '${used}' (it links ${links}, "
          "which reach: ${reach}): link it or drop the include")
      endif()
    endforeach()
  endforeach()
endforeach()

# Files outside src/ that include a layer but belong to no target: no link says what they may use.
foreach(dir IN LISTS TRANCHE_CHECKED_DIRS)
  file(GLOB_RECURSE files "${ROOT}/${dir}/*.cpp" "${ROOT}/${dir}/*.hpp" "${ROOT}/${dir}/*.h")
  foreach(file IN LISTS files)
    file(RELATIVE_PATH rel "${ROOT}" "${file}")
    # Fixtures hold deliberate offences for this check's own test; node_modules is not ours.
    if(rel MATCHES "(^|/)(fixtures|node_modules)/" OR rel IN_LIST checked_files)
      continue()
    endif()
    layer_includes("${file}" includes)
    if(includes)
      list(GET includes 0 first)
      string(REGEX REPLACE "^([a-z_]+)\\|(.*)$" "\\2" line "${first}")
      violation("${rel}: `${line}`: the file belongs to no target, so no link says which layers it "
        "may use: list it among its target's sources")
    endif()
  endforeach()
endforeach()

if(violations)
  list(REMOVE_DUPLICATES violations)
  list(JOIN violations "\n  " text)
  message(FATAL_ERROR "layer check failed:\n  ${text}")
endif()
message(STATUS "layer check: ok")
