# The linker. GNU ld (bfd) is the slowest part of a link with debug information; gold (in
# binutils, so always there on Debian), lld and mold read the same objects in a third of the
# CPU time (measured on the SDK library: bfd 0.18 s, gold 0.07 s, lld 0.06 s). KB_LINKER=auto
# takes the first of mold, lld, gold that the compiler can link with, else the default;
# KB_LINKER=default keeps the compiler's default; any other value is passed as -fuse-ld=.
# Every one of them writes the GNU build id that scripts/package.sh files debug symbols by.
#
# The default stays the compiler's own (bfd): lld resolves static archives differently (it
# takes a member wherever it is named, bfd only in link order), and under UBSan's vptr checks
# the sanitizer build then failed to link unit_checkin (checkin_domain's KioskRoutes.o pulled
# in without the plugin class's typeinfo). KB_LINKER=auto is for local builds.
set(KB_LINKER default CACHE STRING "Linker: auto (mold, lld, gold), default, or a -fuse-ld= name")

if(KB_LINKER STREQUAL "auto")
  include(CheckLinkerFlag)
  foreach(ld mold lld gold)
    check_linker_flag(CXX -fuse-ld=${ld} KB_LINKER_CAN_${ld})
    if(KB_LINKER_CAN_${ld})
      set(kb_linker ${ld})
      break()
    endif()
  endforeach()
elseif(NOT KB_LINKER STREQUAL "default")
  set(kb_linker ${KB_LINKER})
endif()
if(kb_linker)
  add_link_options(-fuse-ld=${kb_linker})
  message(STATUS "Linker: ${kb_linker}")
endif()
