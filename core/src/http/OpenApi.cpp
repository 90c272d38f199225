#include "http/OpenApi.h"

#include <Poco/JSON/Array.h>

#include <algorithm>
#include <cctype>

namespace klinikbox::http {

Poco::JSON::Object::Ptr buildOpenApi(const RouteTable& routes, const std::string& version) {
    using Poco::JSON::Array;
    using Poco::JSON::Object;
    Object::Ptr doc = new Object;
    doc->set("openapi", "3.1.0");
    Object::Ptr info = new Object;
    info->set("title", "Klinikbox API");
    info->set("version", version);
    info->set("description", "Every error is an RFC 9457 problem document (application/problem+json).");
    doc->set("info", info);

    Object::Ptr problem = new Object;
    problem->set("type", "object");
    Object::Ptr pprops = new Object;
    for (const char* k : {"type", "title", "detail", "instance"}) {
        Object::Ptr s = new Object;
        s->set("type", "string");
        pprops->set(k, s);
    }
    Object::Ptr st = new Object;
    st->set("type", "integer");
    pprops->set("status", st);
    problem->set("properties", pprops);
    Object::Ptr schemas = new Object;
    schemas->set("Problem", problem);
    Object::Ptr components = new Object;
    components->set("schemas", schemas);
    Object::Ptr cookie = new Object;
    cookie->set("type", "apiKey");
    cookie->set("in", "cookie");
    cookie->set("name", "kb_session");
    Object::Ptr sec = new Object;
    sec->set("session", cookie);
    components->set("securitySchemes", sec);
    doc->set("components", components);

    auto all = routes.all();
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
        return a->pattern != b->pattern ? a->pattern < b->pattern : a->method < b->method;
    });
    Object::Ptr paths = new Object;
    for (const auto& r : all) {
        Object::Ptr item = paths->has(r->pattern) ? paths->getObject(r->pattern) : Object::Ptr(new Object);
        Object::Ptr op = new Object;
        op->set("operationId", r->method + r->pattern);
        if (!r->doc.summary.empty()) op->set("summary", r->doc.summary);
        Array::Ptr tags = new Array;
        tags->add(r->doc.tag.empty() ? r->owner : r->doc.tag);
        op->set("tags", tags);
        Array::Ptr params = new Array;
        for (const auto& s : r->segments) {
            if (s.size() > 2 && s.front() == '{') {
                Object::Ptr p = new Object;
                p->set("name", s.substr(1, s.size() - 2));
                p->set("in", "path");
                p->set("required", true);
                Object::Ptr ps = new Object;
                ps->set("type", "string");
                p->set("schema", ps);
                params->add(p);
            }
        }
        if (params->size()) op->set("parameters", params);
        if (!r->access.anonymous) {
            Array::Ptr secReq = new Array;
            Object::Ptr s = new Object;
            s->set("session", Array::Ptr(new Array));
            secReq->add(s);
            op->set("security", secReq);
            Array::Ptr roles = new Array;
            for (auto role : r->access.roles) roles->add(std::string(toString(role)));
            op->set("x-roles", roles);
        }
        if (r->doc.requestSchema) {
            Object::Ptr body = new Object;
            body->set("required", true);
            Object::Ptr content = new Object;
            Object::Ptr media = new Object;
            media->set("schema", r->doc.requestSchema);
            content->set("application/json", media);
            body->set("content", content);
            op->set("requestBody", body);
        }
        Object::Ptr responses = new Object;
        Object::Ptr ok = new Object;
        ok->set("description", "Success");
        if (r->doc.responseSchema) {
            Object::Ptr content = new Object;
            Object::Ptr media = new Object;
            media->set("schema", r->doc.responseSchema);
            content->set("application/json", media);
            ok->set("content", content);
        }
        responses->set(r->method == "POST" ? "201" : "200", ok);
        Object::Ptr err = new Object;
        err->set("description", "An RFC 9457 problem document");
        Object::Ptr econtent = new Object;
        Object::Ptr emedia = new Object;
        Object::Ptr ref = new Object;
        ref->set("$ref", "#/components/schemas/Problem");
        emedia->set("schema", ref);
        econtent->set("application/problem+json", emedia);
        err->set("content", econtent);
        responses->set("default", err);
        op->set("responses", responses);
        std::string m = r->method;
        std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return std::tolower(c); });
        item->set(m, op);
        paths->set(r->pattern, item);
    }
    doc->set("paths", paths);
    return doc;
}

}  // namespace klinikbox::http
