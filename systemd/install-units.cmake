# Run by `cmake --install` (install(CODE) in systemd/CMakeLists.txt), so that every path follows
# the prefix given at install time (`cmake --install BUILD --prefix P`), not the configured one.
# In: NEST_UNIT_SRC (source dir), NEST_UNIT_OUT (build dir), NEST_SBINDIR, NEST_BINDIR,
# NEST_SYSCONFDIR (relative to the prefix, or absolute), NEST_UNITDIR, NEST_SYSUSERSDIR,
# NEST_TMPFILESDIR (idem), NEST_DEFAULT_CONFIG (nestd's compiled-in config path).
set(prefix "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/+$" "" prefix "${prefix}")

# nest_full(OUT DIR): DIR under the install prefix unless it is absolute.
function(nest_full out dir)
	if(IS_ABSOLUTE "${dir}")
		set(${out} "${dir}" PARENT_SCOPE)
	else()
		set(${out} "${prefix}/${dir}" PARENT_SCOPE)
	endif()
endfunction()

nest_full(sbindir "${NEST_SBINDIR}")
nest_full(bindir "${NEST_BINDIR}")
nest_full(unitdir "${NEST_UNITDIR}")
nest_full(sysusersdir "${NEST_SYSUSERSDIR}")
nest_full(tmpfilesdir "${NEST_TMPFILESDIR}")
# The GNU rule for the configuration: /etc for the prefixes / and /usr, PREFIX/etc otherwise.
if(IS_ABSOLUTE "${NEST_SYSCONFDIR}")
	set(sysconfdir "${NEST_SYSCONFDIR}")
elseif(prefix STREQUAL "" OR prefix STREQUAL "/usr")
	set(sysconfdir "/${NEST_SYSCONFDIR}")
else()
	set(sysconfdir "${prefix}/${NEST_SYSCONFDIR}")
endif()

# The units name /usr/sbin/nestd and /usr/bin/nestctl; the config is passed explicitly when it is
# not where nestd looks by default.
set(config "${sysconfdir}/nestd/nestd.conf")
set(exec "${sbindir}/nestd")
if(NOT config STREQUAL NEST_DEFAULT_CONFIG)
	string(APPEND exec " --config ${config}")
endif()
# Generated per install (DESTDIR and prefix): installs of one build tree may run concurrently.
string(MD5 tag "$ENV{DESTDIR}|${prefix}")
set(out "${NEST_UNIT_OUT}/installed/${tag}")
file(MAKE_DIRECTORY "${out}")
set(units)
foreach(unit nestd.service nestd.socket nestd-admin.socket)
	file(READ "${NEST_UNIT_SRC}/${unit}" content)
	string(REPLACE "ExecStart=/usr/sbin/nestd" "ExecStart=${exec}" content "${content}")
	string(REPLACE "/usr/sbin/nestd" "${sbindir}/nestd" content "${content}")
	string(REPLACE "/usr/bin/nestctl" "${bindir}/nestctl" content "${content}")
	file(WRITE "${out}/${unit}" "${content}")
	list(APPEND units "${out}/${unit}")
endforeach()
file(INSTALL ${units} DESTINATION "${unitdir}")
file(REMOVE_RECURSE "${out}")
file(INSTALL "${NEST_UNIT_SRC}/nestd.sysusers" DESTINATION "${sysusersdir}" RENAME nestd.conf)
file(INSTALL "${NEST_UNIT_SRC}/nestd.tmpfiles" DESTINATION "${tmpfilesdir}" RENAME nestd.conf)
if(EXISTS "${NEST_UNIT_SRC}/nestd.conf")
	file(INSTALL "${NEST_UNIT_SRC}/nestd.conf" DESTINATION "${sysconfdir}/nestd")
endif()
