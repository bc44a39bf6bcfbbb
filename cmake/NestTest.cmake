# nest_add_test(NAME name SOURCES a.c b.c [LIBS lib...] [TIMEOUT s])
# One Criterion binary = one ctest entry. Criterion runs tests in parallel workers; keep the
# per-binary job count at 2 (the CI machine has 2 cores).
function(nest_add_test)
	cmake_parse_arguments(T "" "NAME;TIMEOUT;JOBS" "SOURCES;LIBS" ${ARGN})
	if(NOT T_TIMEOUT)
		set(T_TIMEOUT 300)
	endif()
	if(NOT T_JOBS)
		set(T_JOBS 2) # Criterion workers running the binary's tests side by side
	endif()
	add_executable(${T_NAME} ${T_SOURCES})
	target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/tests/helpers)
	target_link_libraries(${T_NAME} PRIVATE PkgConfig::CRITERION ${T_LIBS})
	add_test(NAME ${T_NAME} COMMAND ${T_NAME} --jobs=${T_JOBS} --timeout=120 --ascii)
	set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT}
		ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1;NEST_BUILD_DIR=${PROJECT_BINARY_DIR};NEST_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()
