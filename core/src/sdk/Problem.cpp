#include <klinikbox/Problem.h>

namespace klinikbox {

Problem::Problem(int status, std::string type, std::string title, std::string detail)
    : std::runtime_error(title + (detail.empty() ? "" : ": " + detail)),
      status_(status),
      type_(std::move(type)),
      title_(std::move(title)),
      detail_(std::move(detail)),
      extensions_(new Poco::JSON::Object) {}

Problem& Problem::with(const std::string& key, const Poco::Dynamic::Var& value) {
    extensions_->set(key, value);
    return *this;
}

Poco::JSON::Object::Ptr Problem::toJson(const std::string& instance) const {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    // Extensions first so they can never override the standard members.
    for (const auto& [k, v] : *extensions_) o->set(k, v);
    o->set("type", type_);
    o->set("title", title_);
    o->set("status", status_);
    if (!detail_.empty()) o->set("detail", detail_);
    if (!instance.empty()) o->set("instance", instance);
    return o;
}

Problem Problem::badRequest(std::string type, std::string detail) {
    return Problem(400, std::move(type), "Bad request", std::move(detail));
}
Problem Problem::notFound(std::string detail) {
    return Problem(404, "/problems/not-found", "Not found", std::move(detail));
}
Problem Problem::forbidden(std::string detail) {
    return Problem(403, "/problems/forbidden", "Forbidden", std::move(detail));
}
Problem Problem::conflict(std::string type, std::string detail) {
    return Problem(409, std::move(type), "Conflict", std::move(detail));
}

}  // namespace klinikbox
