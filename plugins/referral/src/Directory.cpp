// The receiver directory (see Directory.h).
#include "Directory.h"

#include <klinikbox/HsaId.h>
#include <klinikbox/JsonInput.h>

#include <Poco/JSON/Parser.h>

#include <sstream>

namespace klinikbox::referral {

namespace {

std::vector<std::string> splitLine(const std::string& line, char sep) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char ch = line[i];
        if (ch == '"') {
            if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
                cur += '"';
                ++i;
            } else {
                quoted = !quoted;
            }
        } else if (ch == sep && !quoted) {
            out.push_back(cur);
            cur.clear();
        } else if (ch != '\r') {
            cur += ch;
        }
    }
    out.push_back(cur);
    return out;
}

std::string key(std::string k) {
    std::string out;
    for (char ch : k)
        if (ch != '_' && ch != ' ') out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (out == "hsaidentity" || out == "hsaid") return "hsa";
    if (out == "displayname" || out == "name") return "name";
    if (out == "endpointurl" || out == "endpoint") return "url";
    if (out == "contractversion" || out == "version") return "version";
    if (out == "receives") return "receives";
    return out;
}

Receiver fromFields(const std::map<std::string, std::string>& f) {
    Receiver r;
    auto get = [&](const char* k) {
        auto it = f.find(k);
        return it == f.end() ? std::string() : it->second;
    };
    r.hsaId = get("hsa");
    r.name = get("name");
    r.receives = get("receives");
    r.endpointUrl = get("url");
    r.contractVersion = get("version").empty() ? "2.2" : get("version");
    return r;
}

}  // namespace

int majorVersion(const std::string& v) {
    const auto dot = v.find('.');
    const auto major = v.substr(0, dot);
    if (major.empty() || major.size() > 3 || major.find_first_not_of("0123456789") != std::string::npos)
        throw DirectoryError("contract_version must look like 2.2");
    return std::stoi(major);
}

void validate(const Receiver& r) {
    if (!HsaId::parse(r.hsaId)) throw DirectoryError("hsa_id is not a valid HSA-id");
    if (r.name.empty() || klinikbox::JsonInput::utf8Length(r.name) > 200) throw DirectoryError("name must be 1 to 200 characters");
    if (klinikbox::JsonInput::utf8Length(r.receives) > 500) throw DirectoryError("receives is longer than 500 characters");
    if (!r.endpointUrl.starts_with("https://") || r.endpointUrl.size() > 500 || r.endpointUrl.size() < 10)
        throw DirectoryError("endpoint_url must be an https address");
    (void)majorVersion(r.contractVersion);
    if (r.contractVersion.size() > 10) throw DirectoryError("contract_version must look like 2.2");
}

void upsertReceiver(db::Connection& c, const Receiver& r) {
    validate(r);
    auto s = c.prepare(
        "INSERT INTO referral_receivers (hsa_id, name, receives, endpoint_url, contract_version) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (hsa_id) DO UPDATE SET name = excluded.name, receives = excluded.receives, "
        "endpoint_url = excluded.endpoint_url, contract_version = excluded.contract_version");
    s.bind(1, r.hsaId).bind(2, r.name).bind(3, r.receives).bind(4, r.endpointUrl).bind(5, r.contractVersion);
    s.exec();
}

bool removeReceiver(db::Connection& c, const std::string& hsaId) {
    auto s = c.prepare("DELETE FROM referral_receivers WHERE hsa_id = ?");
    s.bind(1, hsaId);
    s.exec();
    return c.changes() == 1;
}

std::optional<Receiver> receiver(db::Connection& c, const std::string& hsaId) {
    auto s = c.prepare("SELECT hsa_id, name, receives, endpoint_url, contract_version FROM referral_receivers WHERE hsa_id = ?");
    s.bind(1, hsaId);
    if (!s.step()) return std::nullopt;
    return Receiver{s.getText(0), s.getText(1), s.getText(2), s.getText(3), s.getText(4)};
}

std::vector<Receiver> receivers(db::Connection& c) {
    auto s = c.prepare("SELECT hsa_id, name, receives, endpoint_url, contract_version FROM referral_receivers ORDER BY name");
    std::vector<Receiver> out;
    while (s.step()) out.push_back(Receiver{s.getText(0), s.getText(1), s.getText(2), s.getText(3), s.getText(4)});
    return out;
}

std::vector<Receiver> parseCsv(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line)) throw DirectoryError("the file is empty");
    const char sep = line.find(';') != std::string::npos ? ';' : ',';
    std::vector<std::string> header;
    for (auto& h : splitLine(line, sep)) header.push_back(key(h));
    std::vector<Receiver> out;
    int n = 1;
    while (std::getline(in, line)) {
        ++n;
        if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
        const auto cells = splitLine(line, sep);
        std::map<std::string, std::string> f;
        for (std::size_t i = 0; i < header.size() && i < cells.size(); ++i) f[header[i]] = cells[i];
        auto r = fromFields(f);
        try {
            validate(r);
        } catch (const DirectoryError& e) {
            throw DirectoryError("line " + std::to_string(n) + ": " + e.what());
        }
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<Receiver> parseJson(const std::string& text) {
    Poco::Dynamic::Var v;
    try {
        v = Poco::JSON::Parser().parse(text);
    } catch (const std::exception&) {
        throw DirectoryError("the file is not valid JSON");
    }
    Poco::JSON::Array::Ptr arr;
    if (v.type() == typeid(Poco::JSON::Array::Ptr)) arr = v.extract<Poco::JSON::Array::Ptr>();
    else if (v.type() == typeid(Poco::JSON::Object::Ptr)) arr = v.extract<Poco::JSON::Object::Ptr>()->getArray("units");
    if (!arr) throw DirectoryError("the JSON must be an array of units or {\"units\": [...]}");
    std::vector<Receiver> out;
    for (std::size_t i = 0; i < arr->size(); ++i) {
        auto o = arr->getObject(static_cast<unsigned>(i));
        if (!o) throw DirectoryError("entry " + std::to_string(i + 1) + " is not an object");
        std::map<std::string, std::string> f;
        for (const auto& [k, val] : *o)
            if (val.isString()) f[key(k)] = val.toString();
        auto r = fromFields(f);
        try {
            validate(r);
        } catch (const DirectoryError& e) {
            throw DirectoryError("entry " + std::to_string(i + 1) + ": " + e.what());
        }
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace klinikbox::referral
