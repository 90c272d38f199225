#include "DocBook.h"

#include <klinikbox/RivTa.h>

#include <Poco/DOM/Node.h>
#include <Poco/DOM/NodeList.h>

namespace klinikbox::journal {
namespace {

std::string esc(const std::string& s) { return rivta::xmlEscape(s); }

std::string plain(const std::string& text) {
    std::string out = "<p>";
    std::string line;
    for (char c : text) {
        if (c == '\n') {
            out += esc(line) + "<br>";
            line.clear();
        } else if (c != '\r') {
            line += c;
        }
    }
    return out + esc(line) + "</p>";
}

void walk(const Poco::XML::Node* n, std::string& out, int depth) {
    if (depth > 32) return;  // a pathological nesting renders its text only up to here
    for (auto* c = n->firstChild(); c; c = c->nextSibling()) {
        if (c->nodeType() == Poco::XML::Node::TEXT_NODE || c->nodeType() == Poco::XML::Node::CDATA_SECTION_NODE) {
            out += esc(c->nodeValue());
            continue;
        }
        if (c->nodeType() != Poco::XML::Node::ELEMENT_NODE) continue;
        const auto name = c->localName();
        std::string open, close;
        if (name == "para") open = "<p>", close = "</p>";
        else if (name == "title") open = "<h4>", close = "</h4>";
        else if (name == "section" || name == "article" || name == "info") open = "<div>", close = "</div>";
        else if (name == "emphasis") open = "<em>", close = "</em>";
        else if (name == "itemizedlist" || name == "bibliography") open = "<ul>", close = "</ul>";
        else if (name == "orderedlist") open = "<ol>", close = "</ol>";
        else if (name == "listitem" || name == "biblioentry" || name == "bibliomixed") open = "<li>", close = "</li>";
        out += open;
        walk(c, out, depth + 1);
        out += close;
    }
}

}  // namespace

std::string renderNoteHtml(const std::string& text) {
    const auto start = text.find_first_not_of(" \t\r\n");
    if (start == std::string::npos) return {};
    if (text[start] != '<') return plain(text);
    try {
        auto doc = rivta::parse(text, 1u << 20);
        std::string out;
        walk(doc.get(), out, 0);
        return out;
    } catch (const std::exception&) {
        return plain(text);  // not well-formed XML: shown as the text it is
    }
}

}  // namespace klinikbox::journal
