// JSON Schema (the 2020-12 subset OpenAPI 3.1 uses) for request bodies and parameters, built
// in code and used twice: the router validates every request against a route's schema before
// its handler runs, and the OpenAPI document publishes the same objects. One definition, so
// the document cannot describe a request the box refuses or accept one it does not describe.
//
// Supported keywords: type (one or a list), enum, minLength/maxLength (counted in characters,
// i.e. code points), pattern (ECMAScript), format "date", minimum/maximum, items,
// minItems/maxItems, properties, required, additionalProperties (false or a schema), example.
// A pattern is matched after maxLength is checked: keep patterns on short strings (std::regex
// recurses per character).
#pragma once

#include <klinikbox/Problem.h>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace klinikbox::schema {

using Ptr = Poco::JSON::Object::Ptr;

// A string of minLen..maxLen characters.
[[nodiscard]] Ptr text(std::size_t maxLen, std::size_t minLen = 1);
// A string matching `regex` (anchored by the caller), with an example that matches.
[[nodiscard]] Ptr pattern(const std::string& regex, std::size_t maxLen, const std::string& example);
// One of a fixed set of strings.
[[nodiscard]] Ptr oneOf(std::initializer_list<std::string> values);
[[nodiscard]] Ptr oneOf(const std::vector<std::string>& values);
[[nodiscard]] Ptr integer(long long min, long long max);
[[nodiscard]] Ptr number(double min, double max);
[[nodiscard]] Ptr boolean();
[[nodiscard]] Ptr date();      // YYYY-MM-DD, a real calendar date
[[nodiscard]] Ptr clockTime(); // HH:MM (24:00 allowed as an end)
[[nodiscard]] Ptr personnummer();  // 12 digits, or YYYYMMDD-NNNN
[[nodiscard]] Ptr hsaId();         // SE + organisation number + '-' + id
[[nodiscard]] Ptr arrayOf(Ptr items, std::size_t maxItems, std::size_t minItems = 0);
// Any JSON object (free-form settings and the like).
[[nodiscard]] Ptr anyObject();

struct Field {
    std::string name;
    Ptr schema;
    bool required = false;
};
[[nodiscard]] Field req(std::string name, Ptr s);
[[nodiscard]] Field opt(std::string name, Ptr s);
// An object with exactly these fields (additionalProperties false).
[[nodiscard]] Ptr object(std::initializer_list<Field> fields);
[[nodiscard]] Ptr object(const std::vector<Field>& fields);
// The same schema also allowing JSON null.
[[nodiscard]] Ptr nullable(Ptr s);
// Adds "description" (English, for the API reference).
[[nodiscard]] Ptr described(Ptr s, const std::string& text);

// Nullopt when `value` satisfies `s`; otherwise the 400 problem of the first violation
// (/problems/invalid-field or /problems/unknown-field, with an RFC 6901 pointer in `errors`).
[[nodiscard]] std::optional<Problem> check(const Ptr& s, const Poco::Dynamic::Var& value);
// The same for a query or path parameter given as text: integers and booleans are parsed
// first (a parameter that is not a number where one is expected is a violation).
[[nodiscard]] std::optional<Problem> checkParameter(const Ptr& s, const std::string& name, const std::string& text);

}  // namespace klinikbox::schema
