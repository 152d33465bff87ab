# Shared by the end-to-end scripts: run a command and keep its exit code, stdout and stderr.
cmake_policy(SET CMP0054 NEW)  # quoted strings in if() are never variable names
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(rc ${rc} PARENT_SCOPE)
  set(out "${out}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()
