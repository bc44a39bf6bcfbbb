# nestd_config: configuration parser, logging and the audit trail (owned by the config/logging
# engineer). Included by daemon/CMakeLists.txt with include(sources.cmake). Paths are relative to
# this file so the fragment also works when included from elsewhere.
add_library(nestd_config STATIC
	${CMAKE_CURRENT_LIST_DIR}/config.c
	${CMAKE_CURRENT_LIST_DIR}/config-vm.c
	${CMAKE_CURRENT_LIST_DIR}/config-value.c
	${CMAKE_CURRENT_LIST_DIR}/pasid-windows.c
	${CMAKE_CURRENT_LIST_DIR}/ini.c
	${CMAKE_CURRENT_LIST_DIR}/log.c
	${CMAKE_CURRENT_LIST_DIR}/audit.c
	${CMAKE_CURRENT_LIST_DIR}/audit-rate.c)
target_include_directories(nestd_config PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(nestd_config PUBLIC nestproto PkgConfig::LIBSYSTEMD)
