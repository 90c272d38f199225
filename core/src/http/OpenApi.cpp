#include "http/OpenApi.h"

#include <Poco/JSON/Array.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace klinikbox::http {

namespace {
Poco::JSON::Object::Ptr problemContent() {
    using Poco::JSON::Object;
    Object::Ptr content = new Object;
    Object::Ptr media = new Object;
    Object::Ptr ref = new Object;
    ref->set("$ref", "#/components/schemas/Problem");
    media->set("schema", ref);
    content->set("application/problem+json", media);
    return content;
}

std::string problemDescription(int code) {
    switch (code) {
        case 400: return "The body or a parameter does not satisfy the schema (errors[] points at it), or the input is invalid";
        case 401: return "Not logged in";
        case 403: return "The role may not use this route, or the CSRF token is missing";
        case 404: return "No such resource";
        case 409: return "Conflicts with the current state";
        case 413: return "The body is too large";
        case 415: return "The body is not JSON";
        case 422: return "Refused by a rule of the clinic or the domain";
        case 429: return "Too many attempts; try again later";
        case 502: return "A national service or gateway answered with an error";
        case 503: return "Not configured, or a service is unavailable";
        default: return "An RFC 9457 problem document";
    }
}
}  // namespace

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
    Object::Ptr errs = new Object;
    errs->set("type", "array");
    errs->set("description", "For 400: each violation, with an RFC 6901 pointer into the body (or the parameter's name)");
    pprops->set("errors", errs);
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
        const RouteSpec& spec = r->spec;
        Array::Ptr params = new Array;
        bool hasPathParams = false;
        for (const auto& seg : r->segments) {
            if (seg.size() > 2 && seg.front() == '{') {
                hasPathParams = true;
                const std::string name = seg.substr(1, seg.size() - 2);
                Object::Ptr p = new Object;
                p->set("name", name);
                p->set("in", "path");
                p->set("required", true);
                Object::Ptr ps = new Object;
                ps->set("type", "string");
                for (const auto& d : spec.path)
                    if (d.name == name && d.schema) ps = d.schema;
                p->set("schema", ps);
                params->add(p);
            }
        }
        for (const auto& q : spec.query) {
            Object::Ptr p = new Object;
            p->set("name", q.name);
            p->set("in", "query");
            p->set("required", q.required);
            if (!q.description.empty()) p->set("description", q.description);
            Object::Ptr ps = new Object;
            ps->set("type", "string");
            p->set("schema", q.schema ? q.schema : ps);
            params->add(p);
        }
        if (params->size()) op->set("parameters", params);
        std::set<int> problems(spec.problems.begin(), spec.problems.end());
        if (!r->access.anonymous) {
            Array::Ptr secReq = new Array;
            Object::Ptr s = new Object;
            s->set("session", Array::Ptr(new Array));
            secReq->add(s);
            op->set("security", secReq);
            Array::Ptr roles = new Array;
            for (auto role : r->access.roles) roles->add(std::string(toString(role)));
            op->set("x-roles", roles);
            problems.insert(401);
            if (!r->access.roles.empty() || r->method != "GET") problems.insert(403);  // role, CSRF
        }
        if (r->access.serviceOnly) op->set("x-listener", "producer");  // mutual TLS; elsewhere 404
        const auto body = spec.body ? spec.body : r->doc.requestSchema;
        if (!spec.bodyType.empty()) {
            Object::Ptr rb = new Object;
            rb->set("required", true);
            Object::Ptr content = new Object;
            Object::Ptr media = new Object;
            Object::Ptr bin = new Object;
            bin->set("type", "string");
            bin->set("contentMediaType", spec.bodyType);
            media->set("schema", bin);
            content->set(spec.bodyType, media);
            rb->set("content", content);
            op->set("requestBody", rb);
            problems.insert({400, 413, 415});
        } else if (body) {
            Object::Ptr rb = new Object;
            rb->set("required", !spec.bodyOptional);
            Object::Ptr content = new Object;
            Object::Ptr media = new Object;
            media->set("schema", body);
            content->set("application/json", media);
            rb->set("content", content);
            op->set("requestBody", rb);
        }
        if (spec.body) problems.insert({400, 413, 415});
        if (!spec.query.empty() || hasPathParams) problems.insert(400);
        if (hasPathParams) problems.insert(404);
        if (!spec.body && !body && spec.bodyType.empty() && r->method != "GET") op->set("x-no-body", true);
        Object::Ptr responses = new Object;
        Object::Ptr ok = new Object;
        ok->set("description", spec.status == 204 ? "Done (no content)" : spec.status == 201 ? "Created" : "Success");
        if (spec.status != 204) {
            Object::Ptr content = new Object;
            Object::Ptr media = new Object;
            const auto rs = spec.response ? spec.response : r->doc.responseSchema;
            if (rs) media->set("schema", rs);
            content->set(spec.responseType.empty() ? "application/json" : spec.responseType, media);
            ok->set("content", content);
        }
        // Routes registered without a RouteSpec do not say which 2xx they answer.
        responses->set(spec.status ? std::to_string(spec.status) : std::string("2XX"), ok);
        for (int code : problems) {
            Object::Ptr err = new Object;
            err->set("description", problemDescription(code));
            err->set("content", problemContent());
            responses->set(std::to_string(code), err);
        }
        Object::Ptr err = new Object;
        err->set("description", "Any other RFC 9457 problem document (e.g. 500, 503 or 507 when storage fails)");
        err->set("content", problemContent());
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
