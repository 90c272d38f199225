// RFC 9457 problem documents: the one shape every HTTP error takes.
#pragma once

#include <Poco/JSON/Object.h>

#include <stdexcept>
#include <string>

namespace klinikbox {

// Thrown by route handlers (and the core) to answer with a problem document. `type` is a
// stable relative URI such as "/problems/invalid-personnummer"; `title` is the short
// human summary of that type, `detail` explains this occurrence.
class Problem : public std::runtime_error {
public:
    Problem(int status, std::string type, std::string title, std::string detail = {});

    [[nodiscard]] int status() const { return status_; }
    [[nodiscard]] const std::string& type() const { return type_; }
    [[nodiscard]] const std::string& title() const { return title_; }
    [[nodiscard]] const std::string& detail() const { return detail_; }
    // Extension members (RFC 9457 section 3.2), e.g. "errors": [{"pointer":..,"detail":..}].
    Problem& with(const std::string& key, const Poco::Dynamic::Var& value);
    [[nodiscard]] Poco::JSON::Object::Ptr toJson(const std::string& instance = {}) const;

    // Common kinds.
    static Problem badRequest(std::string type, std::string detail);
    static Problem notFound(std::string detail = {});
    static Problem forbidden(std::string detail = {});
    static Problem conflict(std::string type, std::string detail);

private:
    int status_;
    std::string type_, title_, detail_;
    Poco::JSON::Object::Ptr extensions_;
};

}  // namespace klinikbox
