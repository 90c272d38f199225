#include "DocBook.h"

#include <klinikbox/RivTa.h>

#include <Poco/DOM/Node.h>
#include <Poco/JSON/Object.h>

namespace klinikbox::journal {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

Object::Ptr node(const std::string& tag) {
    Object::Ptr o = new Object;
    o->set("tag", tag);
    o->set("children", Array::Ptr(new Array));
    return o;
}

Array::Ptr plain(const std::string& text) {
    Array::Ptr out = new Array;
    auto p = node("p");
    auto kids = p->getArray("children");
    std::string line;
    bool first = true;
    for (char c : text) {
        if (c == '\r') continue;
        if (c != '\n') {
            line += c;
            continue;
        }
        if (!first || !line.empty()) kids->add(line);
        kids->add(node("br"));
        line.clear();
        first = false;
    }
    if (!line.empty()) kids->add(line);
    out->add(p);
    return out;
}

std::string tagOf(const std::string& name) {
    if (name == "para") return "p";
    if (name == "title") return "h4";
    if (name == "section" || name == "article" || name == "info") return "div";
    if (name == "emphasis") return "em";
    if (name == "itemizedlist" || name == "bibliography") return "ul";
    if (name == "orderedlist") return "ol";
    if (name == "listitem" || name == "biblioentry" || name == "bibliomixed") return "li";
    return {};
}

void walk(const Poco::XML::Node* n, Array::Ptr out, int depth) {
    if (depth > 32) return;  // a pathological nesting renders its text only up to here
    for (auto* c = n->firstChild(); c; c = c->nextSibling()) {
        if (c->nodeType() == Poco::XML::Node::TEXT_NODE || c->nodeType() == Poco::XML::Node::CDATA_SECTION_NODE) {
            if (!c->nodeValue().empty()) out->add(c->nodeValue());
            continue;
        }
        if (c->nodeType() != Poco::XML::Node::ELEMENT_NODE) continue;
        const auto tag = tagOf(c->localName());
        if (tag.empty()) {
            walk(c, out, depth + 1);  // unknown element: its text only
            continue;
        }
        auto e = node(tag);
        walk(c, e->getArray("children"), depth + 1);
        out->add(e);
    }
}

void html(Array::Ptr nodes, std::string& out) {
    for (std::size_t i = 0; i < nodes->size(); ++i) {
        const auto v = nodes->get(static_cast<unsigned>(i));
        if (v.isString()) {
            out += rivta::xmlEscape(v.extract<std::string>());
            continue;
        }
        const auto o = v.extract<Object::Ptr>();
        const auto tag = o->getValue<std::string>("tag");
        if (tag == "br") {
            out += "<br>";
            continue;
        }
        out += "<" + tag + ">";
        html(o->getArray("children"), out);
        out += "</" + tag + ">";
    }
}

}  // namespace

Array::Ptr renderNote(const std::string& text) {
    const auto start = text.find_first_not_of(" \t\r\n");
    if (start == std::string::npos) return new Array;
    if (text[start] != '<') return plain(text);
    try {
        auto doc = rivta::parse(text, 1u << 20);
        Array::Ptr out = new Array;
        walk(doc.get(), out, 0);
        return out;
    } catch (const std::exception&) {
        return plain(text);  // not well-formed XML (or a DOCTYPE): shown as the text it is
    }
}

std::string renderNoteHtml(const std::string& text) {
    std::string out;
    html(renderNote(text), out);
    return out;
}

}  // namespace klinikbox::journal
