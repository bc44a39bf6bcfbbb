# nest_backends: the backend registry and every built-in backend (sim first; kernel backends
# join this list). Included by kernel/CMakeLists.txt.
add_library(nest_backends STATIC
	${CMAKE_CURRENT_LIST_DIR}/backend.c
	${CMAKE_CURRENT_LIST_DIR}/backend-sim.c)
target_include_directories(nest_backends PUBLIC ${CMAKE_CURRENT_LIST_DIR}
	${PROJECT_SOURCE_DIR}/protocol)
target_link_libraries(nest_backends PUBLIC nest_sim PkgConfig::JSONC)
