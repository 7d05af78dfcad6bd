# The two-library tree every case of the layering check's tests shares (CMakeLists.txt here):
# fake_upper links fake_lower; what each case's sources include decides its outcome.
add_library(fake_lower src/signalbox/lower/lower.cc)
add_library(fake_upper src/signalbox/upper/upper.cc)
target_link_libraries(fake_upper PUBLIC fake_lower)
include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/SignalboxLayering.cmake)
signalbox_check_layering(SOURCE_ROOT ${CMAKE_CURRENT_SOURCE_DIR}/src TARGETS fake_lower fake_upper)
