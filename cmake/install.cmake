# What `cmake --install` puts where (make deb packages it: scripts/make-deb.sh). The three programs go together in
# LIBEXECDIR/gnomon, since gnomon finds gnomon-executor and gnomon-agent beside its own binary (util/self_path.h,
# which reads /proc/self/exe: the symlinks in BINDIR lead there); the manual pages and the bash completion are
# generated from the programs' own --help at build time, so they cannot drift from the options.
include(GNUInstallDirs)
set(GNOMON_LIBEXEC ${CMAKE_INSTALL_LIBEXECDIR}/gnomon)
install(TARGETS gnomon gnomon-agent gnomon-executor RUNTIME DESTINATION ${GNOMON_LIBEXEC})
# Graphviz's plugins that gnomon links (CMakeLists.txt) live in a directory of their own, outside the loader's
# path: the installed binary keeps it as its run path (the build tree's binary has it from CMake's build RPATH).
set_target_properties(gnomon PROPERTIES INSTALL_RPATH ${GRAPHVIZ_LIBDIR}/graphviz)
# BINDIR/gnomon and BINDIR/gnomon-agent lead to them (made at install time, so `cmake --install --prefix` holds)
foreach(prog gnomon gnomon-agent)
  install(CODE "set(bindir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
    file(MAKE_DIRECTORY \"\${bindir}\")
    file(CREATE_LINK \"\${CMAKE_INSTALL_PREFIX}/${GNOMON_LIBEXEC}/${prog}\" \"\${bindir}/${prog}\" SYMBOLIC)")
endforeach()

# Manual pages (help2man, from --help and --version) and bash completion (scripts/gen-completion.py, from the
# same help texts): built with everything when help2man is there; `make deb` installs it first.
find_program(HELP2MAN help2man)
find_package(Python3 COMPONENTS Interpreter)
if(HELP2MAN AND Python3_FOUND)
  set(MAN_DIR ${CMAKE_BINARY_DIR}/man)
  add_custom_command(OUTPUT ${MAN_DIR}/gnomon.1 ${MAN_DIR}/gnomon-server.8 ${MAN_DIR}/gnomon-agent.8
      ${CMAKE_BINARY_DIR}/completion/gnomon
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/scripts/gen-docs.py --bin $<TARGET_FILE:gnomon>
      --help2man ${HELP2MAN} --man-dir ${MAN_DIR} --completion ${CMAKE_BINARY_DIR}/completion/gnomon
    DEPENDS gnomon gnomon-agent ${CMAKE_SOURCE_DIR}/scripts/gen-docs.py
    COMMENT "Manual pages and bash completion from --help")
  add_custom_target(docs ALL DEPENDS ${MAN_DIR}/gnomon.1 ${MAN_DIR}/gnomon-server.8 ${MAN_DIR}/gnomon-agent.8
    ${CMAKE_BINARY_DIR}/completion/gnomon)
  install(FILES ${MAN_DIR}/gnomon.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  install(FILES ${MAN_DIR}/gnomon-server.8 ${MAN_DIR}/gnomon-agent.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
  install(FILES ${CMAKE_BINARY_DIR}/completion/gnomon DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
  # bash-completion loads a command's script by the command's name
  install(CODE "file(CREATE_LINK gnomon
    \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}/bash-completion/completions/gnomon-agent\" SYMBOLIC)")
else()
  message(STATUS "help2man or Python 3 not found: no manual pages or bash completion (make deb installs them)")
endif()
