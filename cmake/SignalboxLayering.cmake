# signalbox_check_layering(SOURCE_ROOT <dir> TARGETS <target>...)
#
# Refuses, at configure time, an #include that runs against the library graph: a file of a
# library may include "signalbox/<folder>/..." only when <folder> belongs to that library itself
# or to a library whose headers it sees through target_link_libraries (its direct dependencies
# and what they export PUBLIC, transitively). The graph in the CMakeLists is the one statement
# of the layering; this check keeps the sources to it, so that a lower stage (event/, store/)
# cannot quietly start depending on a higher one (engine/, serve/).
#
# A folder's owner is the target whose SOURCES lie in it; headers take the owner of their
# folder; a generated header (the gRPC API's, "signalbox/v1/...") belongs to the target that
# lists it among its sources.
# Every file below SOURCE_ROOT/signalbox must have an owner: a folder no listed target compiles
# is an error, not skipped.

function(_signalbox_visible_targets target out)
  # What `target` sees: its direct link libraries, then the PUBLIC (interface) libraries of
  # those, transitively. $<LINK_ONLY:...> entries are link-time only and give no headers.
  get_target_property(direct ${target} LINK_LIBRARIES)
  if(NOT direct)
    set(direct "")
  endif()
  set(seen "")
  set(queue ${direct})
  while(queue)
    list(POP_FRONT queue item)
    if(item MATCHES "^\\$<LINK_ONLY:" OR NOT TARGET "${item}" OR item IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${item})
    get_target_property(exported ${item} INTERFACE_LINK_LIBRARIES)
    if(exported)
      list(APPEND queue ${exported})
    endif()
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

function(signalbox_check_layering)
  cmake_parse_arguments(L "" "SOURCE_ROOT" "TARGETS" ${ARGN})
  set(root "${L_SOURCE_ROOT}/signalbox")

  # Owner of each folder (relative to ${root}), from the targets' sources.
  foreach(target IN LISTS L_TARGETS)
    get_target_property(sources ${target} SOURCES)
    get_target_property(source_dir ${target} SOURCE_DIR)
    foreach(source IN LISTS sources)
      cmake_path(ABSOLUTE_PATH source BASE_DIRECTORY "${source_dir}" NORMALIZE)
      cmake_path(IS_PREFIX root "${source}" NORMALIZE inside)
      if(NOT inside)
        # A generated file (the gRPC API's messages and stubs) is owned file by file, by the
        # path it is included as: ".../generated/signalbox/v1/signalbox.pb.h".
        if(source MATCHES "/generated/signalbox/(.*)$")
          set(owner_of_file_${CMAKE_MATCH_1} ${target})
        endif()
        continue()
      endif()
      cmake_path(GET source PARENT_PATH dir)
      cmake_path(RELATIVE_PATH dir BASE_DIRECTORY "${root}")
      set(owner_of_${dir} ${target})
    endforeach()
  endforeach()

  file(GLOB_RECURSE files RELATIVE "${root}" "${root}/*.h" "${root}/*.cc")
  set(problems "")
  foreach(file IN LISTS files)
    cmake_path(GET file PARENT_PATH dir)
    if(NOT DEFINED owner_of_${dir})
      list(APPEND problems "src/signalbox/${file}: its folder belongs to no library")
      continue()
    endif()
    set(owner ${owner_of_${dir}})
    if(NOT DEFINED visible_from_${owner})
      _signalbox_visible_targets(${owner} visible)
      set(visible_from_${owner} ${visible})
    endif()
    file(STRINGS "${root}/${file}" includes REGEX "^[ \t]*#[ \t]*include[ \t]+\"signalbox/")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^[^\"]*\"signalbox/([^\"]*)\".*$" "\\1" included "${line}")
      cmake_path(GET included PARENT_PATH included_dir)
      if(included_dir STREQUAL "")
        continue()  # include/signalbox/signal_kit.h, the plugin interface of the engine
      endif()
      if(DEFINED owner_of_file_${included})
        set(needed ${owner_of_file_${included}})
      elseif(NOT DEFINED owner_of_${included_dir})
        list(APPEND problems "src/signalbox/${file}: includes signalbox/${included}, whose folder belongs to no library")
        continue()
      else()
        set(needed ${owner_of_${included_dir}})
      endif()
      if(NOT needed STREQUAL owner AND NOT needed IN_LIST visible_from_${owner})
        list(APPEND problems
             "src/signalbox/${file}: includes signalbox/${included} of ${needed}, which ${owner} does not link (layering: add it to ${owner}'s target_link_libraries if the arrow is right, or move the code)")
      endif()
    endforeach()
  endforeach()
  if(problems)
    list(JOIN problems "\n  " text)
    message(FATAL_ERROR "Includes against the library layering:\n  ${text}")
  endif()
endfunction()
