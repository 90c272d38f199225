// Safe rendering of a care documentation note: plain text or (entity-encoded) DocBook 5.0.
// The output is HTML made only of a short list of tags the box writes itself; every piece of
// the source's text is escaped, so nothing a producer writes can become markup or script.
#pragma once
#include <string>

namespace klinikbox::journal {

// Handles article, section, title, info, para, emphasis, itemizedlist/orderedlist/listitem,
// bibliography (as a list); any other element contributes only its text.
[[nodiscard]] std::string renderNoteHtml(const std::string& noteText);

}  // namespace klinikbox::journal
