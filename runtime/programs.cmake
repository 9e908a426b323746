# rks: the Record Keeping Server collector (tests and drills use it as the partner's RKS).
# Its sources live in runtime/rks/, which no library glob reaches. It needs only cms_base (logging,
# metrics, persistence/rks_protocol), so a half-finished actor elsewhere cannot break it.
file(GLOB RKS_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/runtime/rks/*.cpp)
add_executable(rks ${RKS_SOURCES})
target_link_libraries(rks PRIVATE cms_base)
