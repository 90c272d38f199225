// The patient's join page: static HTML (Swedish) whose behaviour lives in web/join.js,
// because the box's Content-Security-Policy allows no inline script or style.
#pragma once

#include <string>

namespace klinikbox::video {

[[nodiscard]] const std::string& joinPageHtml();

}  // namespace klinikbox::video
