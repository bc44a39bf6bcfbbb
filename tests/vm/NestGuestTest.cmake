# Guest tests: programs run as root in a QEMU guest (TCG, emulated Intel IOMMU, edu DMA devices
# bound to vfio-pci). See tests/vm/README.md.
#
# nest_guest_test(NAME <name> SCRIPT <guest .sh> [KERNEL debian|linux7]
#                 [PROGRAMS <target or path>...] [FILES <path>[=<guest path>]...]
#                 [MODULES <kernel module>...] [EDU <count>] [TIMEOUT <s>] [APPEND <kernel args>]
#                 [FIXTURES <fixture>...] [REQUIRE <path>...] [ENVIRONMENT <VAR=value>...])
# KERNEL: debian (default) is Debian 12's 6.12 kernel with its vfio modules (fixture vm-kernel);
# linux7 is Linux 7.3 built from source with iommufd, VFIO cdev and the iommufd selftest mock,
# everything built in, so no MODULES (fixture vm-kernel-7, tests/vm/guest-kernel-7.sh).
# One ctest entry: build <name>.initramfs.cpio.gz in the current binary dir, boot it, pass if
# the script exits 0 and the kernel log is clean. PROGRAMS land in the guest's /usr/local/bin
# (on PATH) with their shared libraries; FILES in /usr/local/share/nest/ unless a guest path is
# given. EDU (default 1) edu devices sit at 0000:00:04.0, 0000:00:05.0, ... ($NEST_EDU lists the
# ones bound to vfio-pci). TIMEOUT (default 120) is the QEMU wall-clock limit; the ctest timeout
# is 60 s more. Needs the kernel's fixture (tests/vm/CMakeLists.txt) and the FIXTURES given. A
# REQUIRE path that does not exist when the test runs makes it a SKIP (a failure under CI=true)
# with the reason in <path>.skip (a fixture that could not provide it writes one). ENVIRONMENT
# is set for the driver (e.g. LD_LIBRARY_PATH for a program's libraries). Exit 77 = SKIP.
# A no-op when NEST_GUEST_TESTS is OFF.
set(NEST_VM_DIR ${CMAKE_CURRENT_LIST_DIR})

function(nest_guest_test)
	cmake_parse_arguments(G "" "NAME;SCRIPT;EDU;TIMEOUT;APPEND;KERNEL"
		"PROGRAMS;FILES;MODULES;FIXTURES;REQUIRE;ENVIRONMENT" ${ARGN})
	if(NOT NEST_GUEST_TESTS)
		return()
	endif()
	if(NOT G_NAME OR NOT G_SCRIPT)
		message(FATAL_ERROR "nest_guest_test: NAME and SCRIPT are required")
	endif()
	if(NOT G_EDU AND NOT G_EDU STREQUAL "0")
		set(G_EDU 1)
	endif()
	if(NOT G_TIMEOUT)
		set(G_TIMEOUT 120)
	endif()
	if(NOT G_KERNEL OR G_KERNEL STREQUAL "debian")
		set(G_KERNEL debian)
		set(fixture nest_vm_kernel)
	elseif(G_KERNEL STREQUAL "linux7")
		set(fixture nest_vm_kernel7)
		if(G_MODULES)
			message(FATAL_ERROR "nest_guest_test(${G_NAME}): the linux7 kernel has no modules")
		endif()
	else()
		message(FATAL_ERROR "nest_guest_test(${G_NAME}): KERNEL must be debian or linux7")
	endif()
	get_filename_component(script ${G_SCRIPT} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
	set(args --name ${G_NAME} --kernel ${G_KERNEL} --script ${script} --edu ${G_EDU}
		--timeout ${G_TIMEOUT})
	foreach(p IN LISTS G_PROGRAMS)
		if(TARGET ${p})
			list(APPEND args --program $<TARGET_FILE:${p}>)
		else()
			list(APPEND args --program ${p})
		endif()
	endforeach()
	foreach(f IN LISTS G_FILES)
		list(APPEND args --file ${f})
	endforeach()
	foreach(m IN LISTS G_MODULES)
		list(APPEND args --module ${m})
	endforeach()
	if(G_APPEND)
		list(APPEND args --append "${G_APPEND}")
	endif()
	foreach(r IN LISTS G_REQUIRE)
		list(APPEND args --require ${r})
	endforeach()
	add_test(NAME ${G_NAME} COMMAND bash ${NEST_VM_DIR}/guest-test.sh ${args}
		WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
	math(EXPR ctest_timeout "${G_TIMEOUT} + 60")
	# One QEMU at a time: two TCG guests with 2 vCPUs each on a 2-core machine only slow each
	# other down towards their timeouts.
	set_tests_properties(${G_NAME} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT ${ctest_timeout}
		FIXTURES_REQUIRED "${fixture};${G_FIXTURES}" RESOURCE_LOCK nest_vm_qemu LABELS guest)
	if(G_ENVIRONMENT)
		set_tests_properties(${G_NAME} PROPERTIES ENVIRONMENT "${G_ENVIRONMENT}")
	endif()
endfunction()
