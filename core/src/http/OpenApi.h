// The OpenAPI 3.1 document of every registered route, generated at request time so it can
// never drift from the routes the box really serves.
#pragma once

#include "http/RouteTable.h"

#include <Poco/JSON/Object.h>

namespace klinikbox::http {

Poco::JSON::Object::Ptr buildOpenApi(const RouteTable& routes, const std::string& version);

}  // namespace klinikbox::http
