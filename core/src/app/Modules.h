// Wires the optional parts of the core (accounts, console, plugin sets, Lua) into a Box.
#pragma once

#include "server/Box.h"

namespace klinikbox::app {

// Adds every module to the box and sets its plugin source, according to its config.
void installModules(server::Box& box);
// Hook scripts, Lua plugins and the console's script API (LuaModule.cpp).
void installLua(server::Box& box);

}  // namespace klinikbox::app
