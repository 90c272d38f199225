// Safe rendering of a care documentation note: plain text or (entity-encoded) DocBook 5.0.
// The note becomes a small tree of nodes the box chooses itself (p, h4, div, em, ul, ol, li)
// whose leaves are the source's text; the console builds it with createElement/textContent,
// so nothing a producer writes can become markup or script.
#pragma once
#include <Poco/JSON/Array.h>

#include <string>

namespace klinikbox::journal {

// Handles article, section, title, info, para, emphasis, itemizedlist/orderedlist/listitem,
// bibliography (as a list); any other element contributes only its text. Each node is a
// string (text) or {"tag": one of the tags above, "children": [...]}.
[[nodiscard]] Poco::JSON::Array::Ptr renderNote(const std::string& noteText);
// The same tree as HTML with every text escaped (tests, printable pages).
[[nodiscard]] std::string renderNoteHtml(const std::string& noteText);

}  // namespace klinikbox::journal
