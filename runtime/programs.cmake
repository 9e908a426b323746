# rks: the Record Keeping Server collector (tests and drills use it as the partner's RKS).
# Its sources live in runtime/rks/, which no library glob reaches. It needs only cms_base (logging,
# metrics, persistence/rks_protocol), so a half-finished actor elsewhere cannot break it.
file(GLOB RKS_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/runtime/rks/*.cpp)
add_executable(rks ${RKS_SOURCES})
target_link_libraries(rks PRIVATE cms_base)

# ---- cmsctl (issue 8, management) ---------------------------------------------------------------
# The operator's CLI over the node's HTTP API (runtime/cmsctl_main.cpp, runtime/cmsctl/). It talks
# HTTP only, so it links no node library: Boost.Beast/JSON and threads.
file(GLOB CMSCTL_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/runtime/cmsctl/*.cpp)
add_executable(cmsctl ${CMAKE_SOURCE_DIR}/runtime/cmsctl_main.cpp ${CMSCTL_SOURCES})
target_include_directories(cmsctl PRIVATE ${CMAKE_SOURCE_DIR})
target_link_libraries(cmsctl PRIVATE Boost::headers Boost::json OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
set_target_properties(cmsctl PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
# ---- end cmsctl ---------------------------------------------------------------------------------
