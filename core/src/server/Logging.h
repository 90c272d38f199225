// Application logging: one format, and every message passes through personnummer masking.
#pragma once

#include <string>

namespace klinikbox::server {

// Routes Poco's root logger to stderr (or `file`) through the masking channel.
void setupLogging(const std::string& level, const std::string& file);

}  // namespace klinikbox::server
