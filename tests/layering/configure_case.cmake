# cmake -DSRC=<tree> -DBUILD=<folder> -P configure_case.cmake: configures the tree in a fresh
# folder and prints its output, then "configured" or "refused".
file(REMOVE_RECURSE ${BUILD})
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SRC} -B ${BUILD} RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(rc EQUAL 0)
  message("configured")
else()
  message("refused")
endif()
