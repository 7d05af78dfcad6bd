# Building custom aggregators and views for Signalbox: docs/write-your-first-signal.md.
#
# include() this file by its path, from the Signalbox tree or from a project of your own:
#
#   signalbox_add_signals(<target> SOURCES <file>...)
#     Compiles the sources into <target> - inside the Signalbox build, normally the
#     `signalbox` executable - so that their SIGNALBOX_REGISTER_AGGREGATOR / _VIEW lines
#     register them when the program starts. The sources go into the target itself rather
#     than into a static library, from which the linker would drop an object nothing calls.
#
#   signalbox_add_plugin(<name> SOURCES <file>...)
#     Builds <name>.so, a plugin that a config loads with `plugins: [path/to/<name>.so]`.
#     It compiles the sources with SIGNALBOX_PLUGIN defined (so that signal_kit.h defines
#     the plugin's entry points) and links nothing of Signalbox: the `signalbox` executable
#     exports its symbols and the plugin binds to them when loaded. Build it against the
#     headers of the Signalbox that will load it; one built for another plugin ABI version
#     is refused at load.
#
# Both use the interface target signalbox_kit: C++20 and the header folders of the Signalbox
# tree this file belongs to (include/ for signalbox/signal_kit.h, src/ for what it includes).

include_guard(GLOBAL)

get_filename_component(SIGNALBOX_ROOT_DIR "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

if(NOT TARGET signalbox_kit)
  add_library(signalbox_kit INTERFACE)
  target_include_directories(signalbox_kit INTERFACE "${SIGNALBOX_ROOT_DIR}/include"
                                                     "${SIGNALBOX_ROOT_DIR}/src")
  target_compile_features(signalbox_kit INTERFACE cxx_std_20)
endif()

function(signalbox_add_signals target)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "signalbox_add_signals(${target}): SOURCES is required")
  endif()
  target_sources(${target} PRIVATE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE signalbox_kit)
endfunction()

function(signalbox_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "signalbox_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE signalbox_kit)
  target_compile_definitions(${name} PRIVATE SIGNALBOX_PLUGIN)
  set_target_properties(${name} PROPERTIES PREFIX "" POSITION_INDEPENDENT_CODE ON)
endfunction()
