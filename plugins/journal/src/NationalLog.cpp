#include "NationalLog.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <sstream>

namespace klinikbox::journal {
namespace {
using rivta::element;
}  // namespace

std::string storeLogBody(const std::vector<LogRecord>& logs) {
    if (logs.empty() || logs.size() > kMaxLogsPerCall) throw std::invalid_argument("StoreLog takes 1..500 records");
    std::string b = "<sl:StoreLog xmlns:sl=\"urn:riv:informationsecurity:auditing:log:StoreLogResponder:2\" "
                    "xmlns:core=\"urn:riv:informationsecurity:auditing:log:2\">";
    for (const auto& l : logs) {
        b += "<sl:log>" + element("core:logId", l.logId) + "<core:system>" + element("core:systemId", l.systemId) + "</core:system>" +
             "<core:activity>" + element("core:activityType", l.activity) +
             (l.activityArgs.empty() ? "" : element("core:activityArgs", l.activityArgs)) + element("core:startDate", l.startDate) +
             element("core:purpose", l.purpose) + "</core:activity><core:user>" + element("core:userId", l.userId) +
             "<core:careProvider>" + element("core:careProviderId", l.careProviderId) + "</core:careProvider><core:careUnit>" +
             element("core:careUnitId", l.careUnitId) + "</core:careUnit></core:user><core:resources><core:resource>" +
             element("core:resourceType", l.resourceType) + "<core:patient><core:patientId>" + element("core:root", kPersonIdRoot) +
             element("core:extension", l.patient) + "</core:patientId></core:patient><core:careProvider>" +
             element("core:careProviderId", l.careProviderId) + "</core:careProvider><core:careUnit>" + element("core:careUnitId", l.careUnitId) +
             "</core:careUnit></core:resource></core:resources></sl:log>";
    }
    return b + "</sl:StoreLog>";
}

void parseStoreLog(const Poco::XML::Element* body) {
    if (!body || body->localName() != "StoreLogResponse") throw ServiceError("log service: not a StoreLogResponse");
    const auto code = rivta::descendantText(body, "resultCode");
    if (code != "OK" && code != "INFO")
        throw ServiceError("log service: resultCode " + (code.empty() ? "missing" : code) + " " + rivta::descendantText(body, "resultText"));
}

std::string toJson(const LogRecord& r) {
    Poco::JSON::Object o;
    o.set("logId", r.logId);
    o.set("systemId", r.systemId);
    o.set("activity", r.activity);
    o.set("startDate", r.startDate);
    o.set("purpose", r.purpose);
    o.set("userId", r.userId);
    o.set("careProviderId", r.careProviderId);
    o.set("careUnitId", r.careUnitId);
    o.set("patient", r.patient);
    o.set("resourceType", r.resourceType);
    o.set("activityArgs", r.activityArgs);
    std::ostringstream s;
    o.stringify(s);
    return s.str();
}

LogRecord logRecordFromJson(const std::string& json) {
    Poco::JSON::Parser p;
    const auto o = p.parse(json).extract<Poco::JSON::Object::Ptr>();
    LogRecord r;
    r.logId = o->getValue<std::string>("logId");
    r.systemId = o->getValue<std::string>("systemId");
    r.activity = o->getValue<std::string>("activity");
    r.startDate = o->getValue<std::string>("startDate");
    r.purpose = o->getValue<std::string>("purpose");
    r.userId = o->getValue<std::string>("userId");
    r.careProviderId = o->getValue<std::string>("careProviderId");
    r.careUnitId = o->getValue<std::string>("careUnitId");
    r.patient = o->getValue<std::string>("patient");
    r.resourceType = o->getValue<std::string>("resourceType");
    r.activityArgs = o->optValue<std::string>("activityArgs", "");
    return r;
}

void LogClient::store(const std::vector<LogRecord>& logs) const {
    if (!configured()) throw ServiceError("log service is not configured");
    auto env = callService(endpoint_, "urn:riv:informationsecurity:auditing:log:StoreLogResponder:2:StoreLog", address_,
                           storeLogBody(logs), "log service");
    parseStoreLog(env.body);
}

}  // namespace klinikbox::journal
