// Application logging for plugins. Every line passes through personnummer masking.
#pragma once

#include <string_view>

namespace klinikbox {

class Log {
public:
    virtual ~Log() = default;
    virtual void debug(std::string_view msg) = 0;
    virtual void info(std::string_view msg) = 0;
    virtual void warning(std::string_view msg) = 0;
    virtual void error(std::string_view msg) = 0;
};

}  // namespace klinikbox
