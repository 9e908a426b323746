# mtasim: the MTA / trunking-gateway simulator (test/sim). The simulator core is a library so the
# unit tests (test/unit/sim) can check its pieces directly as well as drive the real binary.
file(GLOB CMS_SIM_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/test/sim/*.cpp)
list(FILTER CMS_SIM_SOURCES EXCLUDE REGEX ".*_main\\.cpp$")
add_library(cms_sim STATIC ${CMS_SIM_SOURCES})
target_include_directories(cms_sim PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(cms_sim PUBLIC cms_mgcp Boost::json Threads::Threads)

add_executable(mtasim ${CMAKE_SOURCE_DIR}/test/sim/mtasim_main.cpp)
target_link_libraries(mtasim PRIVATE cms_sim)
set_target_properties(mtasim PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
